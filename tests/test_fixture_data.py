"""The fixtures are valid R4, consistent with their manifest, and the request builder
answers prefetch templates the way a FHIR server would (cds_service.devtools.fixture_data)."""

from __future__ import annotations

import base64
import importlib.util
from datetime import date, datetime, timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from cds_service.clinical.thresholds import Thresholds
from cds_service.devtools.fixture_data import (
    FIXTURES_DIR, HOOKS, build_hook_request, fixture_names, fixture_request, index_date_of,
    load_bundle, load_fixture, load_manifest, service_for_hook,
)
from cds_service.devtools.fixture_dates import rebase_dates, shift_date
from cds_service.devtools.local_fhir import draft_orders, local_search, render_template, resources
from cds_service.resources import hooks_dir
from cds_service.services.definitions import load_catalog

MANIFEST = load_manifest()
NAMES = sorted(MANIFEST)
TOPICS = {"toh-suspected": "warning", "infection-not-excluded": "critical",
          "imaging-needed": "warning", "avn-features": "info", "other-lesion": "info",
          "tmo-migration": "info"}
ORDER_TOPICS = set(TOPICS) - {"tmo-migration"}


def by_ref(bundle):
    return {f"{r['resourceType']}/{r['id']}": r for r in resources(bundle)}


def references(node):
    """Every Reference.reference string in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def when(resource) -> date:
    value = resource.get("effectiveDateTime") or resource.get("started")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


@pytest.mark.parametrize("name", NAMES)
def test_bundle_parses_as_r4b(name):
    bundle = load_bundle(name)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("name", NAMES)
def test_transaction_puts_prefixed_unique_ids(name):
    bundle = load_bundle(name)
    assert bundle["type"] == "transaction"
    refs = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        ref = f"{resource['resourceType']}/{resource['id']}"
        assert entry["request"] == {"method": "PUT", "url": ref}
        assert resource["id"] == name or resource["id"].startswith(name + "-"), ref
        assert len(resource["id"]) <= 64
        refs.append(ref)
    assert len(refs) == len(set(refs))


def test_ids_unique_across_bundles():
    seen: dict[str, str] = {}
    for name in NAMES:
        for ref in by_ref(load_bundle(name)):
            assert ref not in seen, f"{ref} in {name} and {seen.get(ref)}"
            seen[ref] = name


@pytest.mark.parametrize("name", NAMES)
def test_references_resolve_inside_the_bundle(name):
    bundle = load_bundle(name)
    known = set(by_ref(bundle))
    found = set(references(bundle))
    assert f"Patient/{name}" in found
    for ref in found:
        assert ref in known, f"{name}: dangling reference {ref}"


def test_manifest_covers_every_bundle_file():
    files = {p.stem for p in (FIXTURES_DIR / "patients").glob("*.json")}
    assert files == set(NAMES) == set(fixture_names())
    assert len(NAMES) == 15


def test_load_fixture_by_name_or_path():
    bundle, index = load_fixture("septic-hip")
    assert index == date(2026, 11, 2) and bundle == load_bundle("septic-hip")
    by_path, same = load_fixture(str(FIXTURES_DIR / "patients" / "no-mri.json"))
    assert same == date(2026, 11, 11) == index_date_of(by_path)
    assert index_date_of({"resourceType": "Bundle", "entry": []}) is None


@pytest.mark.parametrize("name", NAMES)
def test_manifest_entry_points_at_real_resources(name):
    case = MANIFEST[name]
    assert case.file.is_file()
    refs = by_ref(load_bundle(name))
    assert f"Patient/{case.patient_id}" in refs
    assert f"Encounter/{case.encounter_id}" in refs
    assert case.user_id in refs
    order = refs[case.order]
    assert order["resourceType"] == "ServiceRequest" and order["status"] == "draft"
    assert order["intent"] == "order"
    assert order["authoredOn"].startswith(case.index_date.isoformat())
    assert set(case.expect) == set(HOOKS)
    for hook, expect in case.expect.items():
        if expect.topic is None:
            assert not expect.evidence and not expect.key_phrases
            continue
        assert expect.topic in (TOPICS if hook == "patient-view" else ORDER_TOPICS)
        assert expect.indicator == TOPICS[expect.topic]
        for ref in expect.evidence:
            assert ref in refs, f"{name} {hook}: evidence {ref} not in bundle"


@pytest.mark.parametrize("name", NAMES)
def test_recent_evidence_fits_the_default_windows(name):
    """Expected-TOH cases must keep their MRI and labs inside the service's recency
    windows, or the expected outcome silently becomes imaging-needed."""
    case, limits = MANIFEST[name], Thresholds()
    refs = by_ref(load_bundle(name))
    for expect in case.expect.values():
        for ref in expect.evidence:
            if not ref.startswith(("DiagnosticReport/", "Observation/")):
                continue
            age = (case.index_date - when(refs[ref])).days
            limit = limits.mri_max_age_days if ref.startswith("DiagnosticReport") else (
                limits.lab_max_age_days)
            if expect.topic != "tmo-migration":
                assert 0 <= age <= limit, f"{name}: {ref} is {age} days old"


def test_seed_cases_carry_their_key_facts():
    seed2 = by_ref(load_bundle("seed2-toh-crp"))
    crp = seed2["Observation/seed2-toh-crp-crp"]["valueQuantity"]
    assert (crp["value"], crp["code"]) == (140.5, "mg/L")
    mgdl = by_ref(load_bundle("crp-mgdl"))["Observation/crp-mgdl-crp"]["valueQuantity"]
    assert (mgdl["value"], mgdl["code"]) == (0.4, "mg/dL")
    assert mgdl["system"] == "http://unitsofmeasure.org"
    report = by_ref(load_bundle("seed1-tmo-hip"))["DiagnosticReport/seed1-tmo-hip-mri-report"]
    text = base64.b64decode(report["presentedForm"][0]["data"]).decode()
    assert "No double line sign" in text and report["conclusion"] in text


# -- rebase_dates ------------------------------------------------------------------------

@pytest.mark.parametrize("value, days, expected", [
    ("2026-10-12", 40, "2026-11-21"),
    ("2026-12-30", 5, "2027-01-04"),
    ("2026-10-12T16:20:00+05:30", 40, "2026-11-21T16:20:00+05:30"),
    ("2026-10-12T16:20:00-06:00", -12, "2026-09-30T16:20:00-06:00"),
    ("2026-10-13T10:48:04.000+05:30", 1, "2026-10-14T10:48:04.000+05:30"),
    ("2026-11-16T08:57:04.123Z", 3, "2026-11-19T08:57:04.123Z"),
    ("2021-03", 40, "2021-04"),
    ("2021-03", 10, "2021-03"),
    ("2015", 200, "2016"),
    ("2015", 10, "2015"),
])
def test_shift_date_keeps_precision_time_and_zone(value, days, expected):
    assert shift_date(value, days) == expected


def test_rebase_shifts_every_date_and_nothing_else():
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p-2026-10", "birthDate": "1999-03-14"},
         "request": {"method": "PUT", "url": "Patient/p-2026-10"}},
        {"resource": {"resourceType": "MedicationStatement", "id": "m",
                      "effectivePeriod": {"start": "2026-05-01", "end": "2026-10-01T08:00:00Z"},
                      "medicationCodeableConcept": {"coding": [{"code": "1514"}]},
                      "dateAsserted": "2026-10-12T09:00:00+05:30"}},
        {"resource": {"resourceType": "Condition", "id": "c", "onsetDateTime": "2015",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}],
                               "text": "2026-10"},
                      "note": [{"text": "seen 2026-10-01"}]}},
    ]}
    out = rebase_dates(bundle, date(2026, 10, 12), date(2027, 1, 1))  # +81 days
    patient, med, cond = (e["resource"] for e in out["entry"])
    assert patient["birthDate"] == "1999-06-03" and patient["id"] == "p-2026-10"
    assert med["effectivePeriod"] == {"start": "2026-07-21", "end": "2026-12-21T08:00:00Z"}
    assert med["dateAsserted"] == "2027-01-01T09:00:00+05:30"
    assert med["medicationCodeableConcept"]["coding"][0]["code"] == "1514"
    assert cond["onsetDateTime"] == "2015" and cond["code"]["coding"][0]["code"] == "1988-5"
    assert cond["code"]["text"] == "2026-10" and cond["note"][0]["text"] == "seen 2026-10-01"
    assert bundle["entry"][0]["resource"]["birthDate"] == "1999-03-14"  # input untouched


def test_rebase_fixture_keeps_relative_ages():
    case = MANIFEST["seed1-tmo-hip"]
    today = date(2031, 2, 27)
    moved = by_ref(rebase_dates(load_bundle(case.name), case.index_date, today))
    original = by_ref(load_bundle(case.name))
    for ref in ("DiagnosticReport/seed1-tmo-hip-mri-report", "Observation/seed1-tmo-hip-crp"):
        assert (today - when(moved[ref])) == (case.index_date - when(original[ref]))
    assert moved[case.order]["authoredOn"].startswith(today.isoformat())


# -- local search and templates --------------------------------------------------------------

def test_local_read_and_missing_read():
    bundle = load_bundle("no-mri")
    assert local_search(bundle, "Patient/no-mri")["birthDate"] == "1978-09-09"
    assert local_search(bundle, "Patient/someone-else") is None


def test_local_search_code_filter():
    bundle = load_bundle("crp-mgdl")
    result = local_search(bundle, "Observation?patient=crp-mgdl&code=http://loinc.org|1988-5,"
                                  "http://loinc.org|4537-7")
    Bundle.model_validate(result)
    assert result["type"] == "searchset" and result["total"] == 2
    assert [e["resource"]["id"] for e in result["entry"]] == ["crp-mgdl-crp", "crp-mgdl-esr"]
    assert result["entry"][0]["fullUrl"].endswith("/Observation/crp-mgdl-crp")
    assert local_search(bundle, "Observation?code=6690-2")["total"] == 1
    assert local_search(bundle, "Observation?code=|6690-2")["total"] == 0
    assert local_search(bundle, "Observation?code=http://snomed.info/sct|6690-2")["total"] == 0


def test_local_search_category_modality_and_patient():
    avn = load_bundle("steroid-avn")
    imaging = local_search(avn, "Observation?patient=Patient/steroid-avn&category=imaging")
    assert [e["resource"]["id"] for e in imaging["entry"]] == ["steroid-avn-mri-finding-avn"]
    nobody = local_search(avn, "Observation?patient=other&category=imaging")
    assert nobody["total"] == 0 and "entry" not in nobody  # FHIR forbids empty arrays
    assert local_search(avn, "Observation?category=laboratory")["total"] == 3
    studies = local_search(load_bundle("no-mri"), "ImagingStudy?patient=no-mri&modality=MR")
    assert [e["resource"]["id"] for e in studies["entry"]] == ["no-mri-mri-lumbar"]


def test_local_search_hides_draft_orders_and_refuses_unknown_params():
    ankle = load_bundle("seed1-tmo-ankle")
    found = local_search(ankle, "ServiceRequest?patient=seed1-tmo-ankle")
    assert [e["resource"]["status"] for e in found["entry"]] == ["completed"]
    assert local_search(ankle, "ServiceRequest/seed1-tmo-ankle-order") is None
    with pytest.raises(ValueError):
        local_search(ankle, "Observation?date=ge2026-01-01")


def test_render_template_tokens():
    context = {"patientId": "p1", "userId": "Practitioner/u1", "draftOrders": {}}
    assert render_template("Condition?patient={{context.patientId}}", context) == (
        "Condition?patient=p1")
    assert render_template("Practitioner/{{userPractitionerId}}", context) == "Practitioner/u1"
    assert render_template("Encounter/{{context.encounterId}}", context) is None


# -- hook requests ----------------------------------------------------------------------

SERVICES = load_catalog(hooks_dir()).services


@pytest.mark.parametrize("hook", HOOKS)
def test_build_hook_request_shape(hook):
    service = service_for_hook(hook)
    bundle = load_bundle("seed1-tmo-hip")
    request = build_hook_request(bundle, hook, service, date(2026, 10, 12),
                                 fhir_server="https://fhir.test/r4")
    assert request["hook"] == hook and request["fhirServer"] == "https://fhir.test/r4"
    context = request["context"]
    assert context["patientId"] == "seed1-tmo-hip"
    assert context["userId"] == "Practitioner/seed1-tmo-hip-surgeon"
    assert context["encounterId"] == "seed1-tmo-hip-visit"
    assert set(request["prefetch"]) == set(service.prefetch)
    assert request["prefetch"]["patient"]["resourceType"] == "Patient"
    for value in request["prefetch"].values():
        if value["resourceType"] == "Bundle":
            Bundle.model_validate(value)
            for entry in value.get("entry", ()):
                assert entry["resource"].get("status") != "draft"
                assert entry["fullUrl"].startswith("https://fhir.test/r4/")
    if hook == "patient-view":
        assert "draftOrders" not in context and "selections" not in context
        return
    drafts = context["draftOrders"]
    Bundle.model_validate(drafts)
    ids = [e["resource"]["id"] for e in drafts["entry"]]
    assert drafts["type"] == "collection" and "seed1-tmo-hip-order" in ids
    assert ids == [d["id"] for d in draft_orders(bundle)]
    if hook == "order-select":
        assert context["selections"] == [f"ServiceRequest/{i}" for i in ids]
    else:
        assert "selections" not in context


def test_build_hook_request_options():
    bundle = load_bundle("pregnancy-toh")
    service = SERVICES["toh-core-decompression-sign"]
    bare = build_hook_request(bundle, "order-sign", service.id, date(2026, 11, 16),
                              with_prefetch=False)
    assert "prefetch" not in bare and "fhirServer" not in bare
    assert bare["hookInstance"] != build_hook_request(
        bundle, "order-sign", service, date(2026, 11, 16))["hookInstance"]
    with pytest.raises(ValueError):
        build_hook_request(bundle, "order-select", service, date(2026, 11, 16))
    later = date(2026, 11, 16) + timedelta(days=100)
    moved = build_hook_request(bundle, "order-sign", service, later, index_date=date(2026, 11, 16))
    order = moved["context"]["draftOrders"]["entry"][0]["resource"]
    assert order["authoredOn"].startswith(later.isoformat())


@pytest.mark.parametrize("name", NAMES)
def test_fixture_request_selects_only_the_manifest_order(name):
    case = MANIFEST[name]
    request = fixture_request(name, "order-select", date(2030, 1, 1))
    assert request["context"]["selections"] == [case.order]
    assert request["context"]["userId"] == case.user_id
    assert request["context"]["encounterId"] == case.encounter_id


def test_committed_requests_are_current():
    spec = importlib.util.spec_from_file_location(
        "generate_requests", FIXTURES_DIR / "generate_requests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.render_all()
    assert len(files) == len(NAMES) * len(HOOKS)
    for path, text in files.items():
        assert path.is_file(), f"missing {path}: run fixtures/generate_requests.py"
        assert path.read_text(encoding="utf-8") == text, f"stale {path}"
