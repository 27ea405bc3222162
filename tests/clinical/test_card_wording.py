"""The card's words are exact and true (issue 14): each wording rule with a positive and a
negative case. The clock is the builders' fixed NOW, never the day the suite runs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from cds_service.clinical.reasons import Reason, day
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.card_text import MAX_WORDS, count_words, fit_words, laterality, quote
from cds_service.services.core_decompression import CoreDecompressionLogic
from tests.clinical.builders import (
    NOW, SNOMED, coded_obs, draft_order, invocation, lab, med_request, mri_study, patient, record,
    report)
from tests.clinical.test_assessment import NORMAL_LABS, TOH_TEXT

LOGIC = CoreDecompressionLogic(Thresholds())
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
PREGNANT = (coded_obs("ps", "82810-3", "2025-02-20", value_code=(SNOMED, "77386006")),
            coded_obs("ga", "11884-4", "2025-02-20", quantity=(34, "wk")))
BILATERAL_TEXT = ("Bilateral diffuse bone marrow edema of the femoral heads and necks. "
                  "No double line sign, no collapse.")


def card(*extra: dict, text: str | None = TOH_TEXT, mri_date: str | None = "2025-02-20",
         mri_side: str = "left", who: dict | None = None, labs: tuple = NORMAL_LABS,
         now=NOW, order: dict | None = None):
    resources = [who or patient(birth="1980-01-01"), *labs, *extra]
    if mri_date:
        resources.append(mri_study("mri", mri_date, mri_side))
        if text is not None:
            resources.append(report("rep", mri_date, text, study="mri"))
    (issued,) = LOGIC.decide(invocation(order or draft_order(), now=now), record(*resources))
    return issued.card


def test_pregnant_patient_summary_says_so() -> None:
    woman = patient(gender="female", birth="1994-01-01")
    assert card(*PREGNANT, who=woman).summary.startswith("Pregnant at 34 weeks;")
    assert "regnan" not in card(who=woman).summary


def test_bilateral_edema_is_named_as_both_hips() -> None:
    both = card(text=BILATERAL_TEXT, mri_side="bilateral")
    assert "both hips" in both.summary and "bilateral transient osteoporosis" in both.summary
    assert "**MRI 20 Feb 2025, both hips:**" in both.detail


def test_mri_of_both_hips_with_one_sided_edema_is_not_bilateral() -> None:
    one = card(text=TOH_TEXT, mri_side="bilateral")  # the study covers both, the edema one
    assert one.summary.startswith("Left hip edema")
    assert "both hips" not in one.summary + one.detail and "bilateral" not in one.summary


@pytest.mark.parametrize(
    ("sides", "exam", "ordered", "expected"),
    [
        (["bilateral"], "bilateral", "left", "bilateral"),
        (["left", "right"], "bilateral", "left", "bilateral"),
        (["left"], "bilateral", "left", "left"),
        ([None], "right", None, "right"),
        ([None], "bilateral", "left", "left"),  # the exam covers both hips: not evidence
        ([], None, None, None),
    ],
)
def test_laterality_from_all_the_evidence(sides, exam, ordered, expected) -> None:
    reasons = [Reason("x", side=s) for s in sides]
    assert laterality(reasons, exam, ordered) == expected


def test_too_old_mri_says_its_age_and_the_limit() -> None:
    old = card(mri_date=(NOW - timedelta(days=57)).date().isoformat())
    assert "57 days old, over the 42-day limit" in old.summary
    assert "57 days old; the limit is 42 days" in old.detail
    assert "readable" not in old.summary + old.detail


def test_unreadable_mri_is_not_called_too_old() -> None:
    unreadable = card(text=None)  # a recent study without a report
    assert "of 20 Feb 2025 has no readable report" in unreadable.summary
    assert "has no readable report" in unreadable.detail
    assert "days old" not in unreadable.summary + unreadable.detail


def test_no_mri_at_all_is_said_plainly() -> None:
    none = card(mri_date=None)
    assert none.summary.startswith("No MRI of the left hip on record")
    assert "days old" not in none.detail and "readable" not in none.detail


@pytest.mark.parametrize("days_later", [0, 37])
def test_plan_dates_are_those_of_the_suggested_orders(days_later: int) -> None:
    now = NOW + timedelta(days=days_later)
    labs = tuple(lab(f"l{i}", code, v, u, (now - timedelta(days=2)).date().isoformat())
                 for i, (code, v, u) in enumerate([("1988-5", 3, "mg/L"), ("4537-7", 8, "mm/h")]))
    mri_date = (now - timedelta(days=5)).date().isoformat()
    toh = card(mri_date=mri_date, labs=labs, now=now)
    mri = next(a.resource for a in toh.suggestions[0].actions
               if a.type == "create" and "MRI" in a.resource["code"]["text"])
    start, end = now + timedelta(weeks=6), now + timedelta(weeks=8)
    assert mri["occurrencePeriod"] == {"start": start.date().isoformat(),
                                       "end": end.date().isoformat()}
    words = f"repeat MRI {day(start)} to {day(end)} (6-8 weeks from today)"
    assert words in toh.detail and f"({day(start)} to {day(end)})" in mri["note"][0]["text"]
    assert "after the first" not in toh.detail + mri["note"][0]["text"]


def test_one_date_format_and_readable_units() -> None:
    labs = (lab("crp", "1988-5", 0.4, "mg/dL", "2025-02-25"),
            lab("wbc", "6690-2", 7.0, "10*3/uL", "2025-02-25"))
    toh = card(labs=labs)
    assert not ISO.search(toh.detail + toh.summary)
    assert "25 Feb 2025" in toh.detail and "MRI 20 Feb 2025" in toh.detail
    assert "WBC 7 10^9/L" in toh.detail and "10*3" not in toh.detail and "10\\*3" not in toh.detail
    assert "CRP 4 mg/L (limit 10, sent as 0.4 mg/dL)" in toh.detail


def test_steroids_are_in_the_avn_summary() -> None:
    on = card(med_request("p", "Prednisone 40 mg", rxnorm="8640"))
    assert on.summary.startswith("On steroids")
    off = card(text=TOH_TEXT + " Double line sign.")
    assert off.source.topic.code == "avn-features" and "steroid" not in off.summary.lower()


def test_absent_signs_are_one_grouped_bullet() -> None:
    toh = card()
    absent = [b for b in toh.detail.splitlines() if "No AVN sign" in b]
    assert absent == ["- **No AVN sign:** no double-line sign or collapse"]


def test_quote_keeps_the_reports_words_and_marks_the_cut() -> None:
    sentence = ("There is diffuse, ill-defined bone marrow edema throughout the left femoral head "
                "and neck, extending to the intertrochanteric region: low signal on T1.")
    cut = quote(sentence, 10)
    shown = cut.strip('*"').removesuffix("…")
    assert cut.endswith('…"*') and sentence.startswith(shown)
    assert quote("No double line sign.", 10) == '*"No double line sign."*'  # short: whole
    kept = quote("STIR coronal images reveal hyperintense signal in the left femoral head and "
                 "neck, suggestive of diffuse edema.", 10, keep="edema")
    assert "diffuse edema" in kept


def test_word_bound_holds_for_any_input() -> None:
    def build(caps):
        return [f"- **Head {i}:** " + "word " * 60 for i in range(5)]
    bullets = fit_words(build)
    assert len(bullets) == 5 and count_words("\n".join(bullets)) <= MAX_WORDS
