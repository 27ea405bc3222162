"""The contract between the HTTP pipeline and the pure service logic.

A logic object never does I/O: the pipeline gives it the validated hook context, the
orders that triggered it, and the patient's parsed record; it returns cards, each with
the FHIR resource ids it rests on (recorded for feedback review).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from cds_service.fhir.raw import RawResource
from cds_service.fhir.record import PatientRecord
from cds_service.services.triggers import TriggeredOrder
from cds_service.wire.cards import Card

if TYPE_CHECKING:
    from cds_service.clinical.text_reader import TextReader
    from cds_service.clinical.thresholds import Thresholds
    from cds_service.fhir.caches import DerivedCache


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


class FactsLogic:
    """What a handler that reads the patient's facts is built with (handlers.py): the
    thresholds, the worker's text reader and its derived-value cache (create_app)."""

    def __init__(self, thresholds: Thresholds, reader: TextReader | None = None,
                 derived: DerivedCache | None = None) -> None:
        self.thresholds = thresholds
        self.reader = reader  # None: a reader of the package's vocabulary
        self.derived = derived  # None: nothing derived is kept
