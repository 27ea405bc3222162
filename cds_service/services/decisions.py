"""Decisions reused for a repeated hook call, re-issued under new card uuids.

order-select fires again on every edit of an order, with the same chart and the same
draft orders: the service's answer is the same, so the cards decided for it are kept
(per worker) and handed out again, each time with fresh card and suggestion uuids, as
the spec wants a new uuid per card issued (feedback names it).

The key is the service, the record object (the record cache hands the same object to
every request that sends the same data; an entry holds it weakly, so it lives no longer
than the record cache keeps it, and a reused id finds a dead reference, not a match),
the hook context, and the minute of the call: a decision is reused for at most
the rest of the minute it was made in, so a threshold counted in days (a lab's age, an
MRI's recency) is at most a minute stale.
"""

from __future__ import annotations

import uuid
import weakref

import orjson

from cds_service.fhir.record import PatientRecord
from cds_service.lru import BoundedLru
from cds_service.services.logic import Invocation, IssuedCard, ServiceLogic

DECISION_CACHE_SIZE = 256
DECISION_CACHE_BYTES = 16 * 1024 * 1024  # cards weigh their JSON; a typical one ~2 KB


def reissued(item: IssuedCard) -> IssuedCard:
    """The same card under a new uuid, its suggestions too (models are shared, read-only)."""
    card = item.card
    suggestions = None
    if card.suggestions is not None:
        suggestions = [s.model_copy(update={"uuid": str(uuid.uuid4())})
                       for s in card.suggestions]
    fresh = card.model_copy(update={"uuid": str(uuid.uuid4()), "suggestions": suggestions})
    return IssuedCard(fresh, item.evidence)


class DecisionCache:
    """Cards by (service, record, context, minute), least recently used out, bounded by
    entries and by bytes (the cards' JSON and the key's context); a zero bound keeps none."""

    def __init__(self, size: int = DECISION_CACHE_SIZE,
                 max_bytes: int = DECISION_CACHE_BYTES) -> None:
        self._lru: BoundedLru[tuple[weakref.ref[PatientRecord], list[IssuedCard]]] = (
            BoundedLru(size, max_weight=max_bytes))

    def decide(self, logic: ServiceLogic, invocation: Invocation,
               record: PatientRecord) -> list[IssuedCard]:
        try:
            context = orjson.dumps(invocation.context, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not plain JSON: decide afresh
            return logic.decide(invocation, record)
        minute = invocation.now.replace(second=0, microsecond=0)
        key = (invocation.service_id, id(record), context, minute)
        found = self._lru.get(key)
        if found is not None and found[0]() is record:
            return [reissued(item) for item in found[1]]
        issued = logic.decide(invocation, record)
        weight = len(context) + len(orjson.dumps([item.card.to_json() for item in issued]))
        self._lru.put(key, (weakref.ref(record), issued), weight)
        return issued

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)
