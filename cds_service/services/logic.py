"""The contract between the HTTP pipeline and the pure service logic.

A logic object never does I/O: the pipeline gives it the validated hook context, the
orders that triggered it, and the patient's parsed record; it returns cards, each with
the FHIR resource ids it rests on (recorded for feedback review).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cds_service.fhir.raw import RawResource
from cds_service.fhir.record import PatientRecord
from cds_service.services.triggers import TriggeredOrder
from cds_service.wire.cards import Card


@dataclass(frozen=True)
class Invocation:
    """One hook call, as the logic sees it."""

    service_id: str
    hook: str
    context: Mapping[str, Any]
    orders: Sequence[TriggeredOrder]
    now: datetime  # timezone-aware; injected so rules are testable at any date


@dataclass(frozen=True)
class IssuedCard:
    """A card and the `Type/id` references of the resources it rests on."""

    card: Card
    evidence: tuple[str, ...] = ()


class ServiceLogic(Protocol):
    """What a handler named in hooks/services/*.toml provides."""

    def keep(self, raw: RawResource) -> bool:
        """Cheap filter on raw JSON: does the decision read this resource at all?"""
        ...

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        """Cards for this call (an empty list when nothing is worth saying)."""
        ...
