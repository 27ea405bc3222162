"""Bounds on the work one hook call may cause: JSON nesting, resources per request and per
Bundle, a deadline per request, and the number of calls a worker computes at once.

Every limit is a setting (`[service]` in the config, see the README's "Limits" section and
docs/limits.md) and every refusal names it. The values bound the time and memory of the
worst input that fits in `max_body_bytes`; what each costs is measured in docs/limits.md.

    nesting deeper than max_json_depth        400 (hook request), 412 (FHIR response)
    more than max_bundle_entries in a Bundle  413 (prefetch), 412 (FHIR search)
    more than max_resources in all            413 (prefetch), 412 (with FHIR data)
    past request_deadline_seconds             422 (the input costs too much work)
    no compute slot before the deadline       503 with Retry-After (the worker is busy)
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from cds_service.errors import Issue, ServiceBusy, TooCostly


def nesting_exceeds(value: Any, limit: int) -> bool:
    """True when `value` (parsed JSON) nests deeper than `limit` objects and arrays.

    Iterative, so it cannot itself overflow the stack, and linear in the containers
    visited; it stops at the first container past the limit. Validating FHIR models and
    serialising with pydantic recurse once per level and fail near 250 levels
    (RecursionError, "Maximum serialization depth exceeded"): nothing deeper than the
    limit reaches them."""
    if not isinstance(value, (dict, list)):
        return False
    level: list[Any] = [value]
    depth = 1
    while level:
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            below.extend(c for c in children if isinstance(c, (dict, list)))
        level = below
        depth += 1
    return False


def bundle_entries(payload: Any) -> int:
    """Entries of a Bundle (1 for any other resource, 0 for null): what the caps count."""
    if not isinstance(payload, Mapping):
        return 0
    if payload.get("resourceType") == "Bundle":
        entries = payload.get("entry")
        return len(entries) if isinstance(entries, list) else 0
    return 1


def check_resource_caps(payloads: Mapping[str, Any], per_bundle: int, in_all: int,
                        error: type[Exception], where: str = "prefetch",
                        settings: tuple[str, str] = ("max_bundle_entries", "max_resources"),
                        ) -> int:
    """Raise `error` (a CdsError class) naming each key over `per_bundle` entries, or the
    total over `in_all`, and the setting; return the total."""
    per_name, all_name = settings
    counts = {key: bundle_entries(value) for key, value in payloads.items()}
    over = {key: n for key, n in counts.items() if n > per_bundle}
    if over:
        raise error(
            f"a Bundle holds more than {per_bundle} entries ([service] {per_name})",
            [Issue("too-costly", f"{where}.{key} holds {n} entries; the limit is {per_bundle} "
                   f"([service] {per_name})", f"{where}.{key}")
             for key, n in sorted(over.items())])
    total = sum(counts.values())
    if total > in_all:
        raise error(f"the request holds {total} resources; the limit is {in_all} "
                    f"([service] {all_name})")
    return total


class Deadline:
    """The time one hook call may take once its body is read (`request_deadline_seconds`).

    `check()` is called between stages and inside the loops that grow with the input
    (building the record); past the deadline it raises TooCostly (422): the same input
    would cost as much again, so a retry is pointless."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self, stage: str = "") -> None:
        if time.monotonic() > self.at:
            where = f" ({stage})" if stage else ""
            raise TooCostly(
                f"the request needs more than {self.seconds:g} s of work{where} "
                "([service] request_deadline_seconds)")


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "cds_request_deadline", default=None)


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the one `check_deadline()` sees in this thread for the block."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def check_deadline(stage: str = "") -> None:
    """Raise TooCostly when the current request's deadline has passed (no-op outside a
    request: unit tests and the CLI call the same code without one)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check(stage)


def checked(items: Iterable[Any], every: int = 256, stage: str = "") -> Iterator[Any]:
    """`items`, with the request deadline checked every `every` items."""
    deadline = _current.get()
    for index, item in enumerate(items):
        if deadline is not None and index % every == every - 1:
            deadline.check(stage)
        yield item


class ComputeSlots:
    """At most `size` hook calls of one worker parse, decide and store at once.

    gthread reads requests in up to `threads` threads, so that slow clients cannot hold
    the worker; the CPU work (one GIL) and its memory (a parsed body takes several times
    its size) are bounded here instead. Waiting for FHIR gives the slot back."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def held(self, deadline: Deadline) -> Iterator[Slot]:
        slot = Slot(self, deadline)
        slot.acquire()
        try:
            yield slot
        finally:
            if slot.holding:
                slot.release()


class Slot:
    """One hook call's claim on a compute slot."""

    def __init__(self, slots: ComputeSlots, deadline: Deadline) -> None:
        self.slots, self.deadline, self.holding = slots, deadline, False

    def acquire(self) -> None:
        if not self.slots._slots.acquire(timeout=max(0.0, self.deadline.remaining())):
            raise ServiceBusy(
                f"all {self.slots.size} compute slots of this worker stayed busy until the "
                "request's deadline ([service] concurrent_hook_calls); retry shortly")
        self.holding = True

    def release(self) -> None:
        self.holding = False
        self.slots._slots.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Give the slot back for a wait that costs no CPU (FHIR calls), then take it
        again (ServiceBusy if that takes past the deadline)."""
        self.release()
        try:
            yield
        finally:
            self.acquire()
