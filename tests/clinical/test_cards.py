"""Every card against the card constraints, and the toh-suspected suggestions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.clinical.reasons import day
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.card_text import fit
from cds_service.services.card_topics import OVERRIDE_SYSTEM, SOURCE_LABEL, TOPIC_SYSTEM, TOPICS
from cds_service.services.core_decompression import CoreDecompressionLogic
from cds_service.services.core_decompression.cards import assessment_card
from tests.card_checks import check_card
from tests.clinical.builders import (
    NOW, draft_order, invocation, lab, med_request, mri_study, patient, record, report)
from tests.clinical.test_assessment import NORMAL_LABS, TOH_TEXT

LOGIC = CoreDecompressionLogic(Thresholds())
TOH_OVERRIDES = {"AVN confirmed on imaging", "Failed conservative treatment",
                 "Surgeon reviewed imaging", "Patient preference after counselling"}

CASES = {
    "toh-suspected": (TOH_TEXT, NORMAL_LABS, ()),
    "infection-not-excluded": (TOH_TEXT, (lab("crp", "1988-5", 140.5, "mg/L", "2025-02-25"),),
                               ()),
    "imaging-needed": (None, NORMAL_LABS, ()),
    "avn-features": (TOH_TEXT + " Double line sign.", NORMAL_LABS, ()),
    "other-lesion": (TOH_TEXT + " Subchondral insufficiency fracture.", NORMAL_LABS, ()),
}


def issued(topic: str, order: dict | None = None):
    text, labs, extra = CASES[topic]
    resources = [patient(birth="1980-01-01"), *labs, *extra]
    if text is not None:
        resources += [mri_study("mri", "2025-02-20"),
                      report("rep", "2025-02-20", text, study="mri")]
    cards = LOGIC.decide(invocation(order or draft_order()), record(*resources))
    assert len(cards) == 1
    return cards[0]


@pytest.mark.parametrize("topic", list(CASES))
def test_card_meets_every_constraint(topic: str) -> None:
    result = issued(topic)
    card = result.card
    as_json = card.to_json()
    check_card(as_json)  # the independent checker in tests/card_checks.py
    assert len(card.summary) < 140
    assert card.source.label == SOURCE_LABEL
    assert card.source.topic.system == TOPIC_SYSTEM and card.source.topic.code == topic
    assert card.indicator == TOPICS[topic][1]
    if card.suggestions:
        assert card.selectionBehavior in ("at-most-one", "any")
    for reason in card.overrideReasons or ():
        assert reason.display and reason.system == OVERRIDE_SYSTEM
    for link in card.links or ():
        assert link.type == "absolute" and link.url.startswith("https://")
    assert result.evidence or topic == "imaging-needed"  # references: beside the prose
    for ref in result.evidence:
        assert ref not in card.detail


@pytest.mark.parametrize(
    ("topic", "indicator", "phrases"),
    [
        ("toh-suspected", "warning", ["Diffuse bone marrow edema", "MRI 20 Feb 2025",
                                      "25 Feb 2025: CRP 3 mg/L (limit 10)", "10^9/L"]),
        ("infection-not-excluded", "critical", ["CRP 140.5 mg/L (limit 10)", "25 Feb 2025"]),
        ("imaging-needed", "warning", ["No MRI of the left hip on record"]),
        ("avn-features", "info", ["double-line sign", "Double line sign."]),
        ("other-lesion", "info", ["Subchondral insufficiency fracture"]),
    ],
)
def test_card_detail_names_the_evidence(topic: str, indicator: str, phrases: list[str]) -> None:
    card = issued(topic).card
    assert card.indicator == indicator
    for phrase in phrases:
        assert phrase.lower() in card.detail.lower(), phrase


def test_toh_card_overrides_link_and_quote() -> None:
    card = issued("toh-suspected").card
    assert {r.display for r in card.overrideReasons} == TOH_OVERRIDES
    assert card.links[0].url == ("https://pubmed.ncbi.nlm.nih.gov/?term=transient+osteoporosis"
                                 "+of+the+hip")
    quoted = card.detail.split('*"', 1)[1].split('"*', 1)[0]
    assert quoted.endswith("…") and TOH_TEXT.startswith(quoted.removesuffix("…"))


def test_toh_suggestion_deletes_the_draft_and_creates_valid_service_requests() -> None:
    card = issued("toh-suspected").card
    assert card.selectionBehavior == "at-most-one"
    (suggestion,) = card.suggestions
    assert suggestion.isRecommended is True
    kinds = [a.type for a in suggestion.actions]
    assert kinds == ["delete", "create", "create"]
    assert suggestion.actions[0].resourceId == "ServiceRequest/sr-cd"
    mri, physio = (ServiceRequest.model_validate(a.resource) for a in suggestion.actions[1:])
    for sr in (mri, physio):
        assert sr.status == "draft" and sr.intent == "proposal"
        assert sr.subject.reference == "Patient/p1"
        assert sr.bodySite[0].text == "Left hip joint"
    assert mri.code.coding[0].code == "30687-8"
    assert physio.code.coding[0].code == "91251008"
    assert mri.occurrencePeriod.start == (NOW + timedelta(weeks=6)).date()
    assert mri.occurrencePeriod.end == (NOW + timedelta(weeks=8)).date()
    assert physio.occurrencePeriod.start == NOW.date()
    assert isinstance(physio.occurrencePeriod.end, date)
    assert mri.reasonReference[0].reference in ("ImagingStudy/mri", "DiagnosticReport/rep")
    # the words match the dates: 6-8 weeks from the day of the card, said in the note and
    # in the detail with the same days
    note = mri.note[0].text
    start, end = NOW + timedelta(weeks=6), NOW + timedelta(weeks=8)
    assert "6-8 weeks from the day this was proposed" in note
    assert f"({day(start)} to {day(end)})" in note
    assert f"repeat MRI {day(start)} to {day(end)} (6-8 weeks from today)" in card.detail
    assert "after the first" not in note


def test_draft_without_id_gets_no_delete_and_says_so() -> None:
    card = issued("toh-suspected", draft_order(oid=None)).card
    assert [a.type for a in card.suggestions[0].actions] == ["create", "create"]
    assert "has no id" in card.detail


def test_imaging_needed_offers_an_mri_order() -> None:
    card = issued("imaging-needed").card
    action = card.suggestions[0].actions[0]
    assert action.type == "create"
    ServiceRequest.model_validate(action.resource)


@pytest.mark.parametrize("topic", ["avn-features", "other-lesion"])
def test_info_cards_have_no_suggestions(topic: str) -> None:
    card = issued(topic).card
    assert card.suggestions is None and card.selectionBehavior is None


def test_infection_card_with_steroid_names_immunosuppression() -> None:
    resources = [patient(), mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", TOH_TEXT, study="mri"),
                 lab("crp", "1988-5", 90, "mg/L", "2025-02-25"),
                 med_request("pred", "Prednisone 20 mg", rxnorm="8640")]
    (result,) = LOGIC.decide(invocation(draft_order()), record(*resources))
    assert result.card.source.topic.code == "infection-not-excluded"
    assert "MedicationRequest/pred" in result.evidence


@pytest.mark.parametrize(
    ("text", "short"),
    [("x" * 20, True), ("word " * 60, False)],
)
def test_summary_fit(text: str, short: bool) -> None:
    out = fit(text)
    assert len(out) < 140
    assert (out == text.strip()) is short


def test_assessment_card_requires_patient_for_creates() -> None:
    from cds_service.clinical.assessment import assess
    from cds_service.clinical.extract import collect_facts

    rec = record(patient(), *NORMAL_LABS, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", TOH_TEXT, study="mri"))
    a = assess(collect_facts(rec, NOW, Thresholds()), Thresholds(), "left")
    result = assessment_card(a, "ServiceRequest/x", None, NOW)
    assert [x.type for x in result.card.suggestions[0].actions] == ["delete"]
