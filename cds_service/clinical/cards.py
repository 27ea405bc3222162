"""Cards for each outcome, built only with the wire models (an invalid card cannot exist).

The detail is GitHub Markdown: what was found, what argues against it, what was missing,
the dated evidence with the exact phrases read, and the FHIR resources used.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.clinical import orders
from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, OTHER, TOH, Assessment
from cds_service.clinical.modality import label as modality_label
from cds_service.clinical.reasons import Reason, when
from cds_service.services.logic import IssuedCard
from cds_service.wire.cards import (
    SUMMARY_MAX, Action, Card, Coding, Link, OverrideReason, Source, Suggestion)

TOPIC_SYSTEM = "https://cds.toh-service.example/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "https://cds.toh-service.example/CodeSystem/override-reason"
SOURCE_LABEL = "Hip core decompression check"
MIGRATION = "tmo-migration"
TOPICS = {  # code -> (display, indicator)
    TOH: ("Transient osteoporosis of the hip suspected", "warning"),
    INFECTION: ("Infection not excluded", "critical"),
    IMAGING: ("Recent hip MRI needed", "warning"),
    AVN: ("AVN features or risk factors", "info"),
    OTHER: ("Other structural lesion", "info"),
    MIGRATION: ("Migratory bone marrow edema", "info"),
}
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
_HEADINGS = {  # outcome -> (found, against)
    TOH: ("What fits transient osteoporosis", "What argues against it"),
    INFECTION: ("Red flags for infection", "What fits transient osteoporosis instead"),
    IMAGING: ("What was found", "What argues against it"),
    AVN: ("AVN features and risk factors", "What fits transient osteoporosis"),
    OTHER: ("Other lesion", "What fits transient osteoporosis"),
}
_MANAGEMENT = ("Transient osteoporosis resolves by itself within months. Consider protected "
               "weight bearing (crutches or walker), analgesics/NSAIDs, calcium and vitamin D, "
               "and a repeat MRI in 6-8 weeks; core decompression is reserved for failure of "
               "conservative treatment.")


def fit(text: str) -> str:
    """Keep a summary under the 140-character limit, cutting at a word."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _md(text: str) -> str:
    return text.replace("*", "\\*").replace("`", "'").replace("_", "\\_")


def _refs(refs: tuple[str, ...]) -> str:
    return f" ({', '.join(f'`{x}`' for x in refs)})" if refs else ""


def _line(r: Reason) -> str:
    quote = f' — *"{_md(r.quote)}"*' if r.quote else ""
    return f"- {_md(r.text)}{quote}{_refs(r.refs)}"


def _grouped_line(group: list[Reason]) -> str:
    """Several findings read from one sentence: the sentence once, the findings listed."""
    first = group[0]
    suffix = f", {when(first.date)}"
    texts = list(dict.fromkeys(r.text.removesuffix(suffix) for r in group))
    return (f"- {when(first.date)}: {_md('; '.join(texts))} — *\"{_md(first.quote or '')}\"*"
            f"{_refs(first.refs)}")


def _section(title: str, reasons: tuple[Reason, ...] | list[Reason]) -> list[str]:
    """One bullet per quoted sentence (a clinician reads each sentence once)."""
    if not reasons:
        return []
    groups: dict[object, list[Reason]] = {}
    for reason in dict.fromkeys(reasons):
        key = (reason.quote, reason.refs, reason.date) if reason.quote else reason
        groups.setdefault(key, []).append(reason)
    lines = [_line(g[0]) if len(g) == 1 else _grouped_line(g) for g in groups.values()]
    return [f"**{title}**", "", *lines, ""]


def detail(sections: list[tuple[str, tuple[Reason, ...] | list[Reason]]],
           evidence: tuple[str, ...], extra: list[str] = ()) -> str:
    lines: list[str] = []
    for title, reasons in sections:
        lines += _section(title, reasons)
    lines += list(extra)
    lines += ["**FHIR resources used**", "",
              ", ".join(f"`{r}`" for r in evidence) if evidence else "none", ""]
    return "\n".join(lines).strip() + "\n"


def source(code: str) -> Source:
    return Source(label=SOURCE_LABEL, topic=Coding(system=TOPIC_SYSTEM, code=code,
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


def _labels(a: Assessment, most: int = 3) -> str:
    labels = list(dict.fromkeys(r.label for r in a.found if r.label))
    return ", ".join(labels[:most])


def _summary(a: Assessment) -> str:
    side = f"{a.side} " if a.side else ""
    if a.outcome == TOH:
        date = f" ({when(a.exam.date)})" if a.exam else ""
        return (f"Hip MRI{date} fits transient osteoporosis of the {side}hip: consider "
                "conservative care before core decompression")
    if a.outcome == INFECTION:
        return f"Infection not excluded ({_labels(a)}): exclude it before core decompression"
    if a.outcome == IMAGING:
        return (f"No recent readable MRI of the {side}hip: obtain one before an irreversible "
                "core decompression")
    if a.outcome == AVN:
        return f"AVN features or risk factors ({_labels(a, 2)}): no transient osteoporosis warning"
    return f"Other {side}hip lesion ({_labels(a, 2)}): not transient osteoporosis"


def _exam_line(a: Assessment) -> list[str]:
    if a.exam is None:
        return []
    e = a.exam
    kind = modality_label(e.modality)
    kind = kind[:1].upper() + kind[1:]
    return [f"**Imaging read**: {kind} \"{_md(e.description)}\" on {when(e.date)} "
            f"({', '.join(f'`{r}`' for r in e.refs)})", ""]


def assessment_card(a: Assessment, order_ref: str | None, patient_id: str | None,
                    now: datetime) -> IssuedCard:
    """The one card for this assessment (a.outcome must not be None)."""
    code = a.outcome
    found_title, against_title = _HEADINGS[code]
    extra = _exam_line(a)
    suggestions = None
    if code == TOH:
        extra += ["**Management to consider**", "", _MANAGEMENT, ""]
        suggestions, note = _toh_suggestions(a, order_ref, patient_id, now)
        extra += [note, ""] if note else []
    elif code == IMAGING and patient_id:
        suggestions = [Suggestion(label=f"Order an MRI of the {a.side + ' ' if a.side else ''}hip",
                                  isRecommended=True, actions=[Action(
                                      type="create", description="Draft hip MRI order",
                                      resource=orders.mri_request(patient_id, a.side))])]
    text = detail([(found_title, a.found),
                   ("Infection excluded on record (raised markers answered)", a.excluded),
                   (against_title, a.against), ("Missing or unusable data", a.missing)],
                  a.evidence, extra)
    card = Card(
        summary=fit(_summary(a)),
        detail=text,
        indicator=TOPICS[code][1],
        source=source(code),
        suggestions=suggestions,
        selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=_overrides(code),
        links=links(code),
    )
    return IssuedCard(card=card, evidence=a.evidence)


def _toh_suggestions(a: Assessment, order_ref: str | None, patient_id: str | None,
                     now: datetime) -> tuple[list[Suggestion] | None, str | None]:
    actions: list[Action] = []
    note = None
    if order_ref:
        actions.append(Action(type="delete", resourceId=order_ref,
                              description="Remove the draft core decompression order"))
    else:
        note = ("The draft core decompression order has no id, so it cannot be removed from "
                "this card: cancel it in the order entry screen if you agree.")
    if patient_id:
        actions.append(Action(type="create", description="Repeat hip MRI in 6-8 weeks",
                              resource=orders.repeat_mri_request(patient_id, a.side, now,
                                                                 a.evidence)))
        actions.append(Action(type="create",
                              description="Protected weight bearing and physiotherapy",
                              resource=orders.physiotherapy_request(patient_id, a.side, now)))
    if not actions:
        return None, note
    label = "Conservative care and repeat MRI in 6-8 weeks instead of core decompression"
    return [Suggestion(label=label, isRecommended=True, actions=actions)], note
