"""The card for each outcome of an assessment, built only with the wire models (an invalid
card cannot exist).

The words come from card_summary.py (the summary) and card_bullets.py (at most five
bullets), the topic, source and links from ../card_topics.py; this module adds the
indicator, suggestions and override reasons. FHIR references travel in the suggestions
and the issued card's evidence (stored for feedback review), never in the prose.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.clinical import orders
from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, TOH, Assessment
from cds_service.services.card_text import Caps, fit_words
from cds_service.services.card_topics import OVERRIDE_SYSTEM, TOPICS, links, source
from cds_service.services.core_decompression import card_bullets
from cds_service.services.core_decompression.card_summary import summary
from cds_service.services.logic import IssuedCard
from cds_service.wire.cards import Action, Card, OverrideReason, Suggestion

__all__ = ["assessment_card", "detail_of"]

_OVERRIDES: dict[str, tuple[str, ...]] = {
    TOH: ("AVN confirmed on imaging", "Failed conservative treatment",
          "Surgeon reviewed imaging", "Patient preference after counselling"),
    INFECTION: ("Infection excluded by other tests", "Labs repeated and normal",
                "Surgeon reviewed imaging"),
    IMAGING: ("Outside MRI reviewed", "Surgeon reviewed imaging", "MRI contraindicated"),
}


def _overrides(code: str) -> list[OverrideReason] | None:
    reasons = _OVERRIDES.get(code)
    if not reasons:
        return None
    return [OverrideReason(system=OVERRIDE_SYSTEM, code=r.lower().replace(" ", "-"), display=r)
            for r in reasons]


def detail_of(a: Assessment, now: datetime, order_has_id: bool = True) -> str:
    """The detail's bullets for this assessment, within the word limit."""
    def build(caps: Caps) -> list[str]:
        if a.outcome == TOH:
            return card_bullets.toh(a, now, order_has_id, caps)
        if a.outcome == INFECTION:
            return card_bullets.infection(a, caps)
        if a.outcome == IMAGING:
            return card_bullets.imaging(a, caps)
        if a.outcome == AVN:
            return card_bullets.avn(a, caps)
        return card_bullets.other(a, caps)
    return "\n".join(fit_words(build)) + "\n"


def assessment_card(a: Assessment, order_ref: str | None, patient_id: str | None,
                    now: datetime) -> IssuedCard:
    """The one card for this assessment (a.outcome must not be None)."""
    code = a.outcome
    if code is None:
        raise ValueError("an assessment without an outcome has no card")
    suggestions = None
    if code == TOH:
        suggestions = _toh_suggestions(a, order_ref, patient_id, now)
    elif code == IMAGING and patient_id:
        suggestions = [Suggestion(label=f"Order an MRI of the {a.side + ' ' if a.side else ''}hip",
                                  isRecommended=True, actions=[Action(
                                      type="create", description="Draft hip MRI order",
                                      resource=orders.mri_request(patient_id, a.side))])]
    card = Card(
        summary=summary(a),
        detail=detail_of(a, now, order_ref is not None),
        indicator=TOPICS[code][1],
        source=source(code),
        suggestions=suggestions,
        selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=_overrides(code),
        links=links(code),
    )
    return IssuedCard(card=card, evidence=a.evidence)


def _toh_suggestions(a: Assessment, order_ref: str | None, patient_id: str | None,
                     now: datetime) -> list[Suggestion] | None:
    actions: list[Action] = []
    if order_ref:
        actions.append(Action(type="delete", resourceId=order_ref,
                              description="Remove the draft core decompression order"))
    if patient_id:
        actions.append(Action(type="create", description="Repeat hip MRI 6-8 weeks from today",
                              resource=orders.repeat_mri_request(patient_id, a.side, now,
                                                                 a.evidence)))
        actions.append(Action(type="create",
                              description="Protected weight bearing and physiotherapy",
                              resource=orders.physiotherapy_request(patient_id, a.side, now)))
    if not actions:
        return None
    label = "Conservative care and a repeat MRI 6-8 weeks from today instead of core decompression"
    return [Suggestion(label=label, isRecommended=True, actions=actions)]
