"""Markers blunted: normal CRP/ESR/fever cannot exclude infection, and the card says so."""

from __future__ import annotations

import pytest

from cds_service.clinical.assessment import AVN, INFECTION, TOH, assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.thresholds import Thresholds
from tests.clinical.builders import (
    NOW, condition, lab, med_request, mri_study, patient, record, report)

TOH_TEXT = ("Diffuse bone marrow edema of the left femoral head and neck extending to the "
            "intertrochanteric region, with joint effusion.")
NORMAL = (lab("crp", "1988-5", 3, "mg/L", "2025-02-25"),
          lab("esr", "4537-7", 8, "mm/h", "2025-02-25"))


def dosed(mid: str, text: str, mg: float, per_day: int = 1, **kw) -> dict:
    res = med_request(mid, text, **kw)
    res["dosageInstruction"] = [{"text": f"{mg:g} mg", "timing": {"repeat": {
        "frequency": per_day, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg",
                                          "system": "http://unitsofmeasure.org",
                                          "code": "mg"}}]}]
    return res


def case(*extra: dict, labs: tuple = NORMAL):
    t = Thresholds()
    resources = [patient(birth="1975-01-01"), *labs, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", TOH_TEXT, study="mri"), *extra]
    return assess(collect_facts(record(*resources), NOW, t), t, "left")


def blunted(a) -> list[str]:
    return [r.text for r in a.missing if r.text.startswith("Markers may be blunted")]


@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        ((med_request("m", "Tocilizumab 162 mg subcutaneous", authored="2025-02-01"),),
         "IL-6 blocker"),
        ((med_request("m", "Kevzara", atc="L04AC14", authored="2025-02-01"),), "IL-6 blocker"),
        ((med_request("m", "Adalimumab 40 mg pen", authored="2025-01-15"),),
         "TNF inhibitor"),
        ((med_request("m", "Cyclophosphamide", atc="L01AA01", authored="2025-02-10"),),
         "chemotherapy"),
        ((dosed("m", "Prednisone 10 mg tablet", 10, per_day=3, rxnorm="8640",
                authored="2025-02-10"),), "high-dose"),  # 30 mg/day
        ((dosed("m", "Dexamethasone 4 mg", 4, rxnorm="3264", authored="2025-02-10"),),
         "high-dose"),  # about 27 mg prednisone
        ((condition("c", "Neutropenia after chemotherapy"), ), "neutropenia"),
        ((condition("c", "On chemotherapy for lymphoma"),), "chemotherapy"),
    ],
)
def test_blunting_is_named_and_normal_labs_do_not_reassure(extra: tuple, kind: str) -> None:
    a = case(*extra)
    assert a.outcome != INFECTION  # blunting alone never raises the critical card
    assert any(kind in text and "cannot exclude infection" in text for text in blunted(a))
    assert not any(r.text.startswith("CRP 3 mg/L") for r in a.found)
    assert any("not reassuring" in r.text for r in a.missing)


@pytest.mark.parametrize(
    "extra",
    [
        (),
        (med_request("m", "Tocilizumab 162 mg", authored="2024-09-01"),),  # > 90 days ago
        (dosed("m", "Prednisone 5 mg tablet", 5, rxnorm="8640", authored="2025-02-10"),),
        (med_request("m", "Prednisone", rxnorm="8640", authored="2025-02-10"),),  # no dose
        (dosed("m", "Prednisolone eye drops", 40, route="ophthalmic", authored="2025-02-10"),),
        (condition("c", "Neutropenia", clinical="resolved"),),
        (med_request("m", "Methotrexate 15 mg weekly", authored="2025-02-10"),),
    ],
)
def test_no_blunting(extra: tuple) -> None:
    a = case(*extra)
    assert blunted(a) == []
    assert not any("not reassuring" in r.text for r in a.missing)
    if a.outcome == TOH:
        assert any(r.text.startswith("CRP 3 mg/L") for r in a.found)
    else:  # a low-dose systemic steroid is still an AVN risk factor
        assert a.outcome == AVN


def test_tocilizumab_on_the_toh_card() -> None:
    a = case(med_request("m", "Tocilizumab 162 mg subcutaneous", authored="2025-02-01"))
    assert a.outcome == TOH and blunted(a)


def test_a_low_white_count_blunts() -> None:
    low = lab("wbc", "6690-2", 1.1, "10*3/uL", "2025-02-25")
    low["interpretation"] = [{"coding": [{"code": "LL"}]}]
    assert any("low white cell count" in t for t in blunted(case(labs=NORMAL + (low,))))
