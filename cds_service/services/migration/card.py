"""The patient-view card: edema in a new joint after a transient episode elsewhere.

Built only with the wire models, in the same words and limits as every card of this
service (../card_text.py), with the shared topic, source and links (../card_topics.py).
"""

from __future__ import annotations

from cds_service.clinical.episodes import joint_label
from cds_service.clinical.facts import JointEpisode, RiskFactor
from cds_service.clinical.reasons import day
from cds_service.services.card_text import (
    Caps,
    bullet,
    first_fitting,
    fit_words,
    listing,
    plain,
    quote,
)
from cds_service.services.card_topics import MIGRATION, MIGRATION_SOURCE_LABEL, links, source
from cds_service.services.logic import IssuedCard
from cds_service.wire.cards import Card


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
