"""One descriptor per handler: prefetch templates and the pre-parse filter from one place."""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.clinical import codes as c
from cds_service.prefetch.reads import HandlerReads, Query
from cds_service.resources import hooks_dir
from cds_service.services.definitions import load_catalog
from cds_service.services.descriptors import CORE_DECOMPRESSION, DESCRIPTORS, TMO_MIGRATION
from cds_service.services.handlers import HANDLERS

CATALOG = load_catalog(hooks_dir(), known_handlers=set(HANDLERS))


def test_every_handler_has_a_descriptor() -> None:
    assert set(DESCRIPTORS) == set(HANDLERS)


def test_order_services_share_the_handlers_prefetch() -> None:
    select = CATALOG.services["toh-core-decompression-select"]
    sign = CATALOG.services["toh-core-decompression-sign"]
    assert select.prefetch == sign.prefetch == CORE_DECOMPRESSION.prefetch
    assert select.optional_prefetch == sign.optional_prefetch == ("procedures",)
    assert CATALOG.services["tmo-migration-patient-view"].prefetch == TMO_MIGRATION.prefetch


def test_labs_search_is_the_code_list_of_codes_py() -> None:
    labs = CORE_DECOMPRESSION.prefetch["labs"]
    assert labs == "Observation?patient={{context.patientId}}&code=" + ",".join(
        f"{system}|{code}" for system, code in c.LAB_CODINGS)
    assert {code for system, code in c.LAB_CODINGS if system == c.LOINC} == set(c.LAB_CODES)


def _observation(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", **fields}


def _coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


@pytest.mark.parametrize(
    ("resource", "order_check", "migration"),
    [
        ({"resourceType": "Patient"}, True, True),
        ({"resourceType": "Medication"}, True, True),
        ({"resourceType": "Encounter"}, False, False),
        (_observation(code=_coded(c.LOINC, "1988-5")), True, False),  # CRP
        (_observation(code=_coded(c.SNOMED, "160573003")), True, False),  # alcohol intake
        (_observation(code=_coded(c.LOINC, "160573003")), False, False),  # system matters
        (_observation(code=_coded(c.LOINC, "2345-7")), False, False),  # glucose: not read
        (_observation(category=[_coded("any", "imaging")]), True, True),
        (_observation(derivedFrom=[{"reference": "ImagingStudy/s1"}]), True, True),
        (_observation(partOf=[{"reference": "DiagnosticReport/r1"}]), True, True),
        (_observation(derivedFrom=[{"reference": "Observation/o1"}]), False, False),
        (_observation(code="not a concept", category="not a list"), False, False),
        ({"resourceType": ["Observation"]}, False, False),
    ],
)
def test_keep_reads_what_the_prefetch_asks_for(
    resource: dict[str, Any], order_check: bool, migration: bool
) -> None:
    assert CORE_DECOMPRESSION.keep(resource) is order_check
    assert TMO_MIGRATION.keep(resource) is migration


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Query("bad key!", "Observation"), "identifier"),
        (lambda: Query("x", "observation"), "resource type"),
        (lambda: Query("x", "Patient", by_id=True, category="imaging"), "by id"),
        (lambda: Query("x", "Observation", linked_types=("ImagingStudy",)), "category"),
        (lambda: HandlerReads((Query("x", "Patient"), Query("x", "Condition"))), "duplicate"),
    ],
)
def test_malformed_descriptor_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_code_of_the_wrong_shape_is_not_read() -> None:
    linked = _observation(code={"coding": [{"system": c.LOINC, "code": ["1988-5"]}]},
                          category=[{"coding": [{"code": ["imaging"]}]}],
                          derivedFrom=[{"reference": "ImagingStudy/s1"}])
    assert CORE_DECOMPRESSION.keep(linked) and not CORE_DECOMPRESSION.keep(
        {**linked, "derivedFrom": []})
