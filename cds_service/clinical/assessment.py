"""Decide what to say about a hip core decompression order (clinical.md "Decisions").

An ordered table of small pure rules (decision_rules.py), each `(facts, context) ->
Assessment | None`; the first that answers wins, so the safety order reads as the list
below: infection not excluded (unless a test on record answered every red flag,
exclusion.py) > imaging needed > AVN features or risk factors > another structural lesion
> TOH suspected. No outcome (no card) only when a recent, readable MRI of the ordered hip
shows none of these (e.g. "no bone marrow edema").
"""

from __future__ import annotations

from collections.abc import Callable

from cds_service.clinical.decision_context import DecisionContext, context_for
from cds_service.clinical.decision_rules import (
    avn_features,
    imaging_needed,
    infection_not_excluded,
    no_outcome,
    other_lesion,
    sif_population,
    toh_suspected,
)
from cds_service.clinical.facts import ClinicalFacts
from cds_service.clinical.outcome import Assessment, Outcome
from cds_service.clinical.thresholds import Thresholds

__all__ = ["AVN", "IMAGING", "INFECTION", "OTHER", "OUTCOMES", "RULES", "TOH", "Assessment",
           "Outcome", "assess", "sif_population"]

INFECTION, IMAGING, AVN, OTHER, TOH = (
    Outcome.INFECTION, Outcome.IMAGING, Outcome.AVN, Outcome.OTHER, Outcome.TOH)
OUTCOMES = tuple(Outcome)

Rule = Callable[[ClinicalFacts, DecisionContext], Assessment | None]
RULES: tuple[Rule, ...] = (  # safety first: the first rule that answers decides
    infection_not_excluded,
    imaging_needed,
    avn_features,
    other_lesion,
    toh_suspected,
)


def assess(facts: ClinicalFacts, t: Thresholds, side: str | None) -> Assessment:
    """The single outcome for this patient and ordered side, with its reasons."""
    context = context_for(facts, t, side)
    for rule in RULES:
        answer = rule(facts, context)
        if answer is not None:
            return answer
    return no_outcome(context)
