"""The bullets of each card, in the order a surgeon needs them (card_text.py has the rules).

The decisive finding first, then what is absent, the labs, the risk factors, the plan.
Each function takes the level of caps to build at, so card_text.fit_words can shrink it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from cds_service.clinical import reasons as k
from cds_service.clinical.assessment import Assessment
from cds_service.clinical.orders import REPEAT_MRI_WEEKS
from cds_service.clinical.reasons import Reason, day
from cds_service.services.card_text import (
    Caps,
    absent_bullet,
    bullet,
    clip,
    dated,
    decisive,
    finding_bullet,
    laterality,
    listing,
    of,
    plain,
    quote,
    sign_names,
    where,
)

_CONTEXT = (k.PREGNANCY, k.MIGRATION, k.CONTEXT)
_TEST_NAME = re.compile(r' "[^"]*"')  # 'PET "FDG PET-CT skull base..."': the card says PET
_NOT_REASSURING = (k.LAB_MISSING, k.LAB_UNUSABLE, k.LAB_BLUNTED, k.TEST_NOT_COUNTED)


def side_of(a: Assessment) -> str | None:
    """The side the card names, from all the evidence the outcome rests on."""
    findings = of(a.found + a.against, k.EDEMA, k.TOH_NAMED, k.AVN_SIGN, k.LESION,
                  k.INFECTION_SEEN)
    return laterality(findings, a.exam.side if a.exam else None, a.side)


def _first_extras(a: Assessment, pool: tuple[Reason, ...]) -> list[str]:
    """What the first bullet adds to its quote (dropped when the quote shows it)."""
    extra = []
    named = of(pool, k.TOH_NAMED)
    if named:
        extra.append(named[0].short)
    if of(pool, k.EFFUSION):
        extra.append("effusion")
    if of(a.missing, k.NO_SIDE):
        extra.append("the order names no side")
    return extra


def risk_text(risks: list[Reason], caps: Caps) -> str:
    """Risk factors grouped by kind, each detail clipped: "systemic corticosteroid:
    Prednisone 20 mg tablet, 60 mg daily…; Prednisone 5 mg tablet…"."""
    by_label: dict[str, list[str]] = {}
    for r in risks:
        by_label.setdefault(r.label, []).append(r.short.removeprefix(f"{r.label}: "))
    out = []
    for label, details in list(by_label.items())[: caps.items]:
        more = f" (and {len(details) - 1} more on record)" if len(details) > 1 else ""
        out.append(f"{plain(label)}: {plain(clip(details[0], caps.quote_words + 2))}{more}")
    return "; ".join(out)


def _answered(r: Reason) -> str:
    """A red flag an exclusion answers, in a few words."""
    if r.kind == k.INFECTION_SEEN:
        return "an imaging doubt"
    return plain(r.short if r.kind == k.INFECTION_CONDITION else r.label)


def labs_bullet(a: Assessment, caps: Caps, normal: list[Reason]) -> str:
    """Exclusions on record first, then the normal values, then what keeps them from
    reassuring (missing, unusable or blunted markers)."""
    parts = []
    tests = of(a.excluded, k.TEST_EXCLUDES)
    if tests:
        answered = [_answered(r) for r in a.excluded if r.kind != k.TEST_EXCLUDES]
        names = listing((plain(_TEST_NAME.sub("", t.short)) for t in tests), caps.items)
        parts.append(f"{names} (after {listing(answered, caps.items)})")
    if normal:
        parts.append(f"normal {dated(normal)}")
    worry = of(a.missing, *_NOT_REASSURING)
    blunted = of(a.missing, k.BLUNTED)
    if blunted:
        parts.append(f"markers may be blunted by {listing((plain(b.label) for b in blunted), 1)}")
    parts += [plain(r.short) for r in worry if r.kind != k.LAB_BLUNTED][: caps.items]
    blunted_labs = of(a.missing, k.LAB_BLUNTED)
    if blunted_labs:
        parts.append(f"so not reassuring: {dated(blunted_labs)}")
    head = "Infection excluded on record" if tests else "Labs"
    return bullet(head, "; ".join(parts)) if parts else ""


def toh(a: Assessment, now: datetime, order_has_id: bool, caps: Caps) -> list[str]:
    side = side_of(a)
    edema = of(a.found, k.EDEMA) or of(a.found, k.TOH_NAMED)
    first = decisive(edema, side)
    start, end = (now + timedelta(weeks=w) for w in REPEAT_MRI_WEEKS)
    plan = (f"protected weight bearing, analgesics, calcium and vitamin D; repeat MRI "
            f"{day(start)} to {day(end)} ({REPEAT_MRI_WEEKS[0]}-{REPEAT_MRI_WEEKS[1]} weeks "
            "from today)")
    if not order_has_id:
        plan += ". The draft order has no id: cancel it in order entry if you agree"
    # Pregnancy and an earlier episode elsewhere change the picture: never dropped; the
    # typical age and sex is the first thing to go.
    context = [plain(r.short) for r in of(a.found, k.NO_RISK) + of(a.found, k.PREGNANCY,
                                                                    k.MIGRATION)]
    context += others(a)
    context += [plain(r.short) for r in of(a.found, k.CONTEXT)][: max(0, caps.items - 2)]
    return [
        finding_bullet(first, side, caps, _first_extras(a, a.found)),
        absent_bullet(of(a.found, k.AVN_ABSENT), of(a.against, k.CAUTION), caps),
        labs_bullet(a, caps, of(a.found, k.LAB_NORMAL)),
        bullet("Risk factors", "; ".join(context)),
        bullet("Plan", plan),
    ]


def others(a: Assessment) -> list[str]:
    """Reasons of no kind the card knows (a rule added since): shown, never dropped."""
    return [plain(r.short or clip(r.text, 16)) for r in a.found + a.against if not r.kind]


def infection(a: Assessment, caps: Caps) -> list[str]:
    side = side_of(a)
    flags = of(a.found, k.LAB_RAISED, k.FEVER, k.INFECTION_CONDITION, k.TEST_POSITIVE)
    seen = of(a.found, k.INFECTION_SEEN)
    imaging = ""
    if seen:
        r = seen[0]
        terms = listing((x.label for x in seen), caps.items)
        imaging = bullet(f"MRI {day(r.date)}, {where(side)}",
                         f"{quote(r.quote, caps.quote_words)} ({plain(terms)})")
    open_ = [plain(r.short) for r in of(a.missing, k.NO_TEST, k.TEST_NOT_COUNTED)]
    open_ += [f"{plain(r.short)}, which does not answer every red flag"
              for r in of(a.against, k.TEST_EXCLUDES)]
    open_ += [f"immunosuppression: {plain(r.short)}" for r in of(a.found, k.IMMUNOSUPPRESSION)]
    open_ += [f"markers may be blunted: {plain(r.short)}" for r in of(a.found, k.BLUNTED)]
    # Only diffuse edema or a named TOH argue for it; edema in the sentence that
    # describes the infection does not.
    edema = [r for r in of(a.against, k.EDEMA) if r.short.startswith("diffuse")]
    first = decisive(edema or of(a.against, k.TOH_NAMED), side)
    fits = ""
    if first is not None and not (seen and first.quote == seen[0].quote):
        fits = bullet("Otherwise fits transient osteoporosis",
                      f"MRI {day(first.date)}, {quote(first.quote, caps.quote_words - 4)}")
    return [
        bullet("Red flags", dated(flags)) if flags else "",
        imaging,
        bullet("Not excluded", "; ".join(open_[: caps.items])) if open_ else "",
        fits,
        bullet("Plan", "exclude infection first (hip aspirate with culture and cell count, "
                       "PET-CT or a labelled leucocyte scan), then reassess"),
    ]


def imaging(a: Assessment, caps: Caps) -> list[str]:
    hip = where(a.side)
    why = a.missing[0]
    if why.kind == k.MRI_OLD:
        first = bullet(f"Latest MRI covering the hip, {day(why.date)}", plain(why.short))
    elif why.kind == k.MRI_UNREADABLE:
        first = bullet(f"MRI {day(why.date)}", plain(why.short))
    else:
        first = f"- **No MRI of the {hip.removeprefix('both ')} on record**"
    others = of(a.found, k.OTHER_IMAGING)
    other = bullet("Other imaging", f"{listing((plain(r.short) for r in others), caps.items)}: "
                   "not an MRI (radiographs stay normal for weeks in TOH and AVN; a bone "
                   "scan is not specific)") if others else ""
    rest = [plain(r.short or r.text) for r in a.missing[1:]]
    return [first, other, bullet("Also", "; ".join(rest[: caps.items])) if rest else "",
            bullet("Plan", f"MRI of the {hip} (T1 and STIR or fat-suppressed T2) before an "
                           "irreversible core decompression")]


def avn(a: Assessment, caps: Caps) -> list[str]:
    side = side_of(a)
    signs = of(a.found, k.AVN_SIGN)
    first = decisive(signs, side, lambda r: bool(sign_names([r])) and "necrosis" in (
        r.quote or "").lower())
    names = listing(sign_names(signs) or [plain(signs[0].label)] if signs else [], caps.items + 1)
    risks = of(a.found, k.RISK)
    risk = bullet("Risk factors", "; ".join([risk_text(risks, caps), *others(a)]).strip("; "))
    edema = of(a.against, k.EDEMA_ON_RISK)
    steroid = any("corticosteroid" in r.label for r in risks)
    caution = "edema alone does not exclude early AVN" + (
        ", least of all on steroids" if steroid else "")
    if first is None:  # risk factors only: the edema, quoted, and why it does not reassure
        return [finding_bullet(decisive(edema, side), side, caps, [caution]), risk]
    return [
        finding_bullet(first, side, caps, [f"AVN signs: {names}"]),
        risk,
        bullet("Edema also reported", caution.removeprefix("edema alone ")) if edema else "",
    ]


def other(a: Assessment, caps: Caps) -> list[str]:
    side = side_of(a)
    lesions = of(a.found, k.LESION)
    first = decisive(lesions, side)
    said = (first.quote or "").lower() if first else ""
    extra = [plain(r.short) for r in lesions if r.short.lower() not in said]
    return [
        finding_bullet(first, side, caps, [listing(extra, caps.items)] if extra else []),
        absent_bullet(of(a.against, k.AVN_ABSENT), [], caps),
        bullet("Risk factors", "; ".join(plain(r.short) for r in of(a.against, k.NO_RISK,
                                                                  *_CONTEXT)[: caps.items])),
        labs_bullet(a, caps, []),
    ]
