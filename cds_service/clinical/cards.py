"""Cards for each outcome, built only with the wire models (an invalid card cannot exist).

The words come from card_summary.py (the summary) and card_bullets.py (at most five
bullets); this module adds what a card carries besides: its source, indicator,
suggestions, override reasons and links. FHIR references travel in the suggestions and
the issued card's evidence (stored for feedback review), never in the prose.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.clinical import card_bullets, orders
from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, OTHER, TOH, Assessment
from cds_service.clinical.card_summary import first_fitting, fit, summary
from cds_service.clinical.card_text import Caps, bullet, fit_words, listing, plain, quote
from cds_service.clinical.episodes import joint_label
from cds_service.clinical.facts import JointEpisode, RiskFactor
from cds_service.clinical.reasons import day
from cds_service.services.logic import IssuedCard
from cds_service.wire.cards import (
    Action, Card, Coding, Link, OverrideReason, Source, Suggestion)

__all__ = ["assessment_card", "fit", "migration_card", "source"]

TOPIC_SYSTEM = "https://cds.toh-service.example/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "https://cds.toh-service.example/CodeSystem/override-reason"
# The issuing service's title (hooks/services/*.toml); services/card_source.py puts the
# title of the service actually called, as edited there, and the rules page URL.
SOURCE_LABEL = "Hip core decompression: transient osteoporosis check"
MIGRATION_SOURCE_LABEL = "Migratory bone marrow edema (transient migratory osteoporosis)"
MIGRATION = "tmo-migration"
TOPICS = {  # code -> (display, indicator)
    TOH: ("Transient osteoporosis of the hip suspected", "warning"),
    INFECTION: ("Infection not excluded", "critical"),
    IMAGING: ("Recent hip MRI needed", "warning"),
    AVN: ("AVN features or risk factors", "info"),
    OTHER: ("Other structural lesion", "info"),
    MIGRATION: ("Migratory bone marrow edema", "info"),
}
# Cards that change nothing about the order (no warning, no suggestion): `[cards]
# informational = false` leaves them out (services/card_source.py).
INFORMATIONAL = (AVN, OTHER)
LITERATURE = {
    TOH: ("PubMed: transient osteoporosis of the hip",
          "https://pubmed.ncbi.nlm.nih.gov/?term=transient+osteoporosis+of+the+hip"),
    MIGRATION: ("PubMed: transient migratory osteoporosis",
                "https://pubmed.ncbi.nlm.nih.gov/?term=transient+migratory+osteoporosis"),
}
_OVERRIDES = {
    TOH: ("AVN confirmed on imaging", "Failed conservative treatment",
          "Surgeon reviewed imaging", "Patient preference after counselling"),
    INFECTION: ("Infection excluded by other tests", "Labs repeated and normal",
                "Surgeon reviewed imaging"),
    IMAGING: ("Outside MRI reviewed", "Surgeon reviewed imaging", "MRI contraindicated"),
}


def source(code: str, label: str = SOURCE_LABEL) -> Source:
    return Source(label=label, topic=Coding(system=TOPIC_SYSTEM, code=code,
                                            display=TOPICS[code][0]))


def _overrides(code: str) -> list[OverrideReason] | None:
    reasons = _OVERRIDES.get(code)
    if not reasons:
        return None
    return [OverrideReason(system=OVERRIDE_SYSTEM, code=r.lower().replace(" ", "-"), display=r)
            for r in reasons]


def links(code: str) -> list[Link] | None:
    if code not in LITERATURE:
        return None
    label, url = LITERATURE[code]
    return [Link(label=label, url=url, type="absolute")]


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


def _episode(e: JointEpisode, caps: Caps, head: str) -> str:
    if head == "Now":
        text = f"{joint_label(e)} edema since {day(e.start)}"
        said = e.phrase
    else:
        text = (f"{joint_label(e)} edema from {day(e.start)}, "
                f"{'resolved' if e.closed else 'improving'} by {day(e.resolved_on)}")
        said = e.resolution_phrase or e.phrase
    return bullet(head, f"{plain(text)}: {quote(said, caps.quote_words)}" if said else plain(text))


def migration_card(new: JointEpisode, earlier: list[JointEpisode],
                   risk_factors: tuple[RiskFactor, ...] = (),
                   label: str = MIGRATION_SOURCE_LABEL) -> IssuedCard:
    """The patient-view card: edema in a new joint after a transient episode elsewhere."""
    def build(caps: Caps) -> list[str]:
        risks = listing((f"{plain(r.label)} ({plain(r.detail)})" for r in risk_factors), caps.items)
        return [
            _episode(earlier[0], caps, "Earlier"),
            bullet("Also earlier", listing((f"{joint_label(e)} ({day(e.start)})"
                                            for e in earlier[1:]), caps.items)),
            _episode(new, caps, "Now"),
            bullet("AVN risk factor on record", f"{risks}: multifocal AVN is the alternative "
                   "to consider") if risks else "",
            bullet("Plan", "transient migratory osteoporosis is self-limiting: protected "
                   "weight bearing, analgesics, follow-up MRI; no core decompression unless "
                   "conservative care fails"),
        ]
    first = earlier[0]
    evidence = tuple(dict.fromkeys(
        [ref for e in [*earlier, new] for ref in e.refs] + [r.ref for r in risk_factors]))
    summary = first_fitting(
        f"Edema moved from the {joint_label(first)} ({day(first.start)}) to the "
        f"{joint_label(new)} ({day(new.start)}): transient migratory osteoporosis?",
        f"Edema moved from the {joint_label(first)} to the {joint_label(new)}: "
        "transient migratory osteoporosis?")
    card = Card(summary=summary, detail="\n".join(fit_words(build)) + "\n", indicator="info",
                source=source(MIGRATION, label), links=links(MIGRATION))
    return IssuedCard(card=card, evidence=evidence)
