"""A least-recently-used map bounded by entries and by the weight they hold in all.

The caches of the hook path (caching.py) are all of this kind: a count bound alone let
400 calls of one distinct 4 MB Observation grow a worker by 1.5 GB (issue 13).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class BoundedLru(Generic[V]):
    """Least recently used out, bounded by entries and by the weight they hold in all
    (bytes, for most caches here); an entry heavier than the whole bound is not kept.
    A bound of 0 keeps nothing (caches off)."""

    def __init__(self, size: int, max_weight: int) -> None:
        self.size = size
        self.max_weight = max_weight
        self._items: OrderedDict[Any, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: V, weight: int) -> None:
        if weight > self.max_weight or self.size <= 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._items[key] = (value, weight)
            self._weight += weight
            while len(self._items) > self.size or self._weight > self.max_weight:
                _, (_, dropped) = self._items.popitem(last=False)
                self._weight -= dropped

    def values(self) -> list[V]:
        with self._lock:
            return [value for value, _ in self._items.values()]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def weight(self) -> int:
        return self._weight
