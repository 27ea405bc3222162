"""The test FHIR server and the fixture loader, against the real server (no mocks)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from cds_service.devtools.loader import FixtureLoadError, load_bundles
from cds_service.services.descriptors import DESCRIPTORS

if TYPE_CHECKING:
    from conftest import FhirServer

pytestmark = pytest.mark.integration

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_FILES = sorted((REPO_ROOT / "fixtures" / "patients").glob("*.json"))
TIMEOUT = 10


def uid(prefix: str) -> str:
    """A FHIR id unique to this test run (ids are shared by every test of the session)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": "Test", "given": [pid]}]}


def observation(oid: str, pid: str, code: str = "1988-5", value: float = 3.0) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2024-03-01T10:00:00Z",
        "valueQuantity": {"value": value, "unit": "mg/L", "system": UCUM, "code": "mg/L"},
    }


def transaction(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def get(server: FhirServer, path_or_url: str, **params: Any) -> requests.Response:
    url = path_or_url if path_or_url.startswith("http") else f"{server.base_url}/{path_or_url}"
    return requests.get(url, params=params or None, headers=server.headers, timeout=TIMEOUT)


def search_all(server: FhirServer, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every resource of a search, following next links."""
    resources, url, query = [], path, params
    while url:
        response = get(server, url, **query)
        assert response.status_code == 200, response.text
        bundle = response.json()
        resources += [e["resource"] for e in bundle.get("entry", [])]
        links = {link["relation"]: link["url"] for link in bundle.get("link", [])}
        url = links.get("next")
        query = {}
    return resources


def test_metadata_is_a_capability_statement(fhir_server: FhirServer) -> None:
    response = get(fhir_server, "metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    assert {"code": "transaction"} in rest["interaction"]
    observation_caps = next(r for r in rest["resource"] if r["type"] == "Observation")
    names = {p["name"] for p in observation_caps["searchParam"]}
    assert {"patient", "code", "date", "category"} <= names


@pytest.mark.parametrize("path", ["metadata", "Patient?_count=1", "Patient/whatever"])
def test_requests_without_the_token_get_401(fhir_server: FhirServer, path: str) -> None:
    url = f"{fhir_server.base_url}/{path}"
    wrong = ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": fhir_server.token})
    for headers in wrong:
        response = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(url, headers=fhir_server.headers, timeout=TIMEOUT).status_code in (200, 404)


def test_put_creates_with_the_given_id_then_updates(fhir_server: FhirServer) -> None:
    pid = uid("put")
    url = f"{fhir_server.base_url}/Patient/{pid}"
    headers = {**fhir_server.headers, "Content-Type": "application/fhir+json"}
    first = requests.put(url, json=patient(pid), headers=headers, timeout=TIMEOUT)
    assert first.status_code == 201, first.text
    assert first.headers["Location"].startswith(f"{url}/_history/")
    changed = {**patient(pid), "gender": "female"}
    second = requests.put(url, json=changed, headers=headers, timeout=TIMEOUT)
    assert second.status_code == 200
    read = get(fhir_server, f"Patient/{pid}")
    assert read.status_code == 200
    body = read.json()
    assert (body["id"], body["gender"], body["name"]) == (pid, "female", patient(pid)["name"])
    assert read.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    assert get(fhir_server, f"Patient/{uid('missing')}").status_code == 404


def test_invalid_resources_and_requests_get_operation_outcomes(fhir_server: FhirServer) -> None:
    headers = {**fhir_server.headers, "Content-Type": "application/fhir+json"}
    pid = uid("bad")
    bad_date = {**patient(pid), "birthDate": "1970-13-45"}
    response = requests.put(
        f"{fhir_server.base_url}/Patient/{pid}", json=bad_date, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.birthDate"]
    for params in ({"foo": "bar"}, {"value-quantity": "5"}, {"subject": "123"}, {"code:text": "x"}):
        response = get(fhir_server, "Observation", **params)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"
    assert get(fhir_server, "NotAType").status_code == 404


def test_transaction_load_is_idempotent(fhir_server: FhirServer) -> None:
    pid = uid("idem")
    bundle = transaction(patient(pid), *(observation(uid("obs"), pid) for _ in range(3)))
    first = load_bundles(fhir_server.base_url, [bundle], fhir_server.token)
    second = load_bundles(fhir_server.base_url, [bundle], fhir_server.token)
    assert first == second == [pid]
    found = search_all(fhir_server, "Observation", patient=pid)
    expected = [e["resource"]["id"] for e in bundle["entry"][1:]]
    assert sorted(o["id"] for o in found) == sorted(expected)


def test_failed_transaction_changes_nothing_and_reports_why(fhir_server: FhirServer) -> None:
    pid = uid("atomic")
    broken = {**observation(uid("obs"), pid), "effectiveDateTime": "2024-99-99"}
    bundle = transaction(patient(pid), broken)
    with pytest.raises(FixtureLoadError) as error:
        load_bundles(fhir_server.base_url, [bundle], fhir_server.token)
    assert error.value.status == 400
    assert "Invalid dateTime format" in str(error.value)
    assert "Observation.effective" in str(error.value)
    assert "Bundle.entry[1]" in str(error.value)
    assert fhir_server.token not in str(error.value)
    assert get(fhir_server, f"Patient/{pid}").status_code == 404  # rolled back


def test_loader_errors_never_show_the_token(fhir_server: FhirServer) -> None:
    pid = uid("tok")
    with pytest.raises(FixtureLoadError) as error:
        load_bundles(fhir_server.base_url, [transaction(patient(pid))], f"x{fhir_server.token}")
    assert error.value.status == 401
    assert fhir_server.token not in str(error.value)
    plain_post = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": patient(pid), "request": {"method": "POST", "url": "Patient"}}],
    }
    with pytest.raises(ValueError, match="not idempotent"):
        load_bundles(fhir_server.base_url, [plain_post], fhir_server.token)


def test_search_by_patient_and_by_code(fhir_server: FhirServer) -> None:
    pid, other = uid("srch"), uid("srch")
    crp, esr, alp = uid("crp"), uid("esr"), uid("alp")
    load_bundles(
        fhir_server.base_url,
        [
            transaction(
                patient(pid),
                observation(crp, pid, "1988-5"),
                observation(esr, pid, "30341-2"),
                observation(alp, pid, "6768-6"),
            ),
            transaction(patient(other), observation(uid("crp"), other, "1988-5")),
        ],
        fhir_server.token,
    )

    def ids(**params: Any) -> set[str]:
        return {r["id"] for r in search_all(fhir_server, "Observation", **params)}

    assert ids(patient=pid) == {crp, esr, alp}
    assert ids(patient=f"Patient/{pid}") == {crp, esr, alp}
    assert ids(subject=f"Patient/{pid}") == {crp, esr, alp}
    assert ids(patient=pid, code=f"{LOINC}|1988-5") == {crp}
    assert ids(patient=pid, code=f"{LOINC}|1988-5,{LOINC}|30341-2") == {crp, esr}
    assert ids(patient=pid, code="http://snomed.info/sct|1988-5") == set()
    assert ids(patient=pid, date="ge2024-03-01", _sort="-date") == {crp, esr, alp}
    assert ids(patient=pid, date="lt2024-01-01") == set()
    included = search_all(fhir_server, "Observation", _id=crp, _include="Observation:patient")
    found = {(r["resourceType"], r["id"]) for r in included}
    assert found == {("Observation", crp), ("Patient", pid)}


def test_paging_follows_next_links_across_pages(fhir_server: FhirServer) -> None:
    pid = uid("page")
    observations = [observation(uid("obs"), pid, value=float(i)) for i in range(25)]
    bundle = transaction(patient(pid), *observations)
    load_bundles(fhir_server.base_url, [bundle], fhir_server.token)

    pages: list[dict[str, Any]] = []
    url, params = "Observation", {"patient": pid, "code": f"{LOINC}|1988-5", "_count": 10}
    while url:
        response = get(fhir_server, url, **params)
        assert response.status_code == 200
        bundle = response.json()
        pages.append(bundle)
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        url, params = links.get("next"), {}
        if url:
            assert url.startswith(f"{fhir_server.base_url}/Observation?")
            assert "_count=10" in url and pid in url and "1988-5" in url
    assert [len(p.get("entry", [])) for p in pages] == [10, 10, 5]
    assert all(p["total"] == 25 for p in pages)
    assert "previous" in {link["relation"] for link in pages[1]["link"]}
    seen = [e["resource"]["id"] for p in pages for e in p["entry"]]
    assert sorted(seen) == sorted(o["id"] for o in observations)  # each exactly once
    entry = pages[0]["entry"][0]
    assert entry["fullUrl"] == f"{fhir_server.base_url}/Observation/{entry['resource']['id']}"
    # Without _count the server pages too (20 per page), as real servers do.
    default_page = get(fhir_server, "Observation", patient=pid).json()
    assert len(default_page["entry"]) == 20 and default_page["total"] == 25
    count_only = get(fhir_server, "Observation", patient=pid, _summary="count").json()
    assert count_only["total"] == 25 and "entry" not in count_only


def test_load_bundles_returns_patient_ids_in_order(fhir_server: FhirServer) -> None:
    first, second = uid("ids"), uid("ids")
    loaded = load_bundles(
        fhir_server.base_url,
        [
            transaction(observation(uid("obs"), first), patient(first)),
            transaction(patient(second)),
            transaction(patient(first)),
        ],
        fhir_server.token,
        session=requests.Session(),
    )
    assert loaded == [first, second]


def test_loader_falls_back_to_puts_without_transactions(
    start_test_fhir_server: Callable[..., Any], tmp_path: Path
) -> None:
    with start_test_fhir_server(tmp_path, ["--no-transactions"]) as server:
        pid = uid("fallback")
        bundle = transaction(patient(pid), observation(uid("obs"), pid))
        assert load_bundles(server.base_url, [bundle, bundle], server.token) == [pid]
        assert len(search_all(server, "Observation", patient=pid)) == 1


def _without_server_meta(resource: dict[str, Any]) -> dict[str, Any]:
    server_set = ("versionId", "lastUpdated")
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in server_set}
    return {k: v for k, v in resource.items() if k != "meta"} | ({"meta": meta} if meta else {})


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_bundle_loads_and_reads_back(fhir_server: FhirServer, path: Path) -> None:
    bundle = json.loads(path.read_text())
    patient_ids = load_bundles(fhir_server.base_url, [bundle], fhir_server.token)
    assert patient_ids, f"{path.name} holds no Patient"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if entry["request"]["method"] != "PUT" or "?" in entry["request"]["url"]:
            continue  # conditional entries: the server picks the id
        response = get(fhir_server, f"{resource['resourceType']}/{resource['id']}")
        assert response.status_code == 200, response.text
        assert _without_server_meta(response.json()) == _without_server_meta(resource)


def _prefetch_templates() -> list[str]:
    templates = {t for reads in DESCRIPTORS.values() for t in reads.prefetch.values()}
    return sorted(t for t in templates if t.replace("{{context.patientId}}", "").count("{{") == 0)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_every_prefetch_query_runs_for_fixture_patients(
    fhir_server: FhirServer, path: Path
) -> None:
    """The hooks' prefetch templates only use searches the test server evaluates."""
    bundle = json.loads(path.read_text())
    (pid, *_) = load_bundles(fhir_server.base_url, [bundle], fhir_server.token)
    templates = _prefetch_templates()
    assert templates
    for template in templates:
        response = get(fhir_server, template.replace("{{context.patientId}}", pid))
        assert response.status_code == 200, f"{template}: {response.text}"
