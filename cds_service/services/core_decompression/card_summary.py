"""The summary line: the decision, the one fact it turns on, and the patient context that
changes it (pregnant, bilateral, on steroids), under the 140-character limit.

Why: the summary is all many EHRs show until the card is opened. Each outcome tries its
wordings longest first and takes the first that fits, so the decision is never the part
cut off.
"""

from __future__ import annotations

from collections.abc import Callable

from cds_service.clinical import reasons as k
from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, TOH, Assessment
from cds_service.clinical.reasons import Reason, day
from cds_service.services.card_text import first_fitting, listing, of, sign_names, where
from cds_service.services.core_decompression.card_bullets import side_of


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _toh(a: Assessment) -> str:
    side = side_of(a)
    pregnant = of(a.found, k.PREGNANCY)
    context = f"{_cap(pregnant[0].label)}; " if pregnant else ""
    signs = "without AVN signs" if of(a.found, k.AVN_ABSENT) else "with no AVN sign reported"
    if side == "bilateral":
        lead, name = f"edema of both hips {signs}", "bilateral transient osteoporosis"
    else:
        lead, name = f"{where(side)} edema {signs}", "transient osteoporosis"
    if not of(a.found, k.EDEMA):
        lead = f"{where(side)} MRI read as {name}"
        fact = lead
    else:
        fact = f"{lead}: likely {name}"
    fact = context + (fact if context else _cap(fact))
    return first_fitting(f"{fact}. Conservative care before core decompression",
                         f"{fact}. Conservative care first", fact)


def _telling(r: Reason) -> int:
    """Named infections before the signs that suggest one (septic arthritis > erosions)."""
    names = ("septic", "osteomyelitis", "abscess", "infect", "tubercul")
    return 0 if any(n in r.label.lower() for n in names) else 1


def _infection(a: Assessment) -> str:
    labs = of(a.found, k.LAB_RAISED)
    fever = of(a.found, k.FEVER)
    seen = sorted(of(a.found, k.INFECTION_SEEN, k.INFECTION_CONDITION, k.TEST_POSITIVE),
                  key=_telling)
    flags = [r.label for r in labs[:1] + fever[:1] + labs[1:2]][:2]
    if seen:
        flags.append(f"{seen[0].label.lower()} on imaging" if seen[0].kind == k.INFECTION_SEEN
                     else seen[0].short or seen[0].label)
    weak = of(a.found, k.IMMUNOSUPPRESSION, k.BLUNTED)
    steroid = any("corticosteroid" in r.label or "steroid" in r.short for r in weak)
    context = "On steroids; " if steroid else "Immunosuppressed; " if weak else ""
    tail = "infection not excluded. Exclude it before core decompression"
    return first_fitting(*(f"{context}{listing(flags[:n], n)}: {tail}"
                           for n in (3, 2, 1)))


def _imaging(a: Assessment) -> str:
    why, hip = a.missing[0], where(a.side)
    tail = "before an irreversible core decompression"
    if why.kind == k.MRI_OLD:
        return first_fitting(f"No recent MRI of the {hip}: latest {why.label}. Obtain one {tail}",
                             f"No recent MRI of the {hip}: latest {why.label}. MRI needed first")
    if why.kind == k.MRI_UNREADABLE:
        return first_fitting(f"MRI of the {hip} of {day(why.date)} has no readable report: "
                             f"review or repeat it {tail}")
    return first_fitting(f"No MRI of the {hip} on record: obtain one {tail}")


def _avn(a: Assessment) -> str:
    side = side_of(a)
    risks = of(a.found, k.RISK)
    steroid = any("corticosteroid" in r.label for r in risks)
    signs = of(a.found, k.AVN_SIGN)
    tail = "no transient osteoporosis warning"
    if signs:
        names = sign_names(signs) or [signs[0].label]
        fact = f"AVN signs on {where(side)} MRI ({listing(names, 2)})"
        return first_fitting(f"{'On steroids; ' if steroid else ''}{fact}: {tail}",
                             f"{fact}: {tail}")
    lead = "On steroids" if steroid else f"AVN risk factor ({risks[0].label})" if risks else \
        "AVN risk"
    return first_fitting(f"{lead}: hip edema does not exclude early AVN; {tail}",
                         f"{lead}: {tail}")


def _other(a: Assessment) -> str:
    side = side_of(a)
    lesions = of(a.found, k.LESION)
    what = lesions[0].label.lower() if lesions else "another lesion"
    return first_fitting(f"{_cap(where(side))} MRI shows {what}: not transient osteoporosis, "
                         "no warning", f"{_cap(where(side))}: {what}, no warning")


def summary(a: Assessment) -> str:
    """The summary for this assessment (a.outcome must not be None)."""
    by_outcome: dict[str | None, Callable[[Assessment], str]] = {
        TOH: _toh, INFECTION: _infection, IMAGING: _imaging, AVN: _avn}
    return by_outcome.get(a.outcome, _other)(a)
