"""The integration tests against any FHIR R4 server, e.g. HAPI's public sandbox:

    CDS_TEST_FHIR_BASE=https://hapi.fhir.org/baseR4 ./scripts/test -m sandbox

(`CDS_TEST_FHIR_TOKEN` if the server wants a bearer token). Every resource id gets a
run suffix, so runs do not collide, and every resource is deleted afterwards. Skipped
when CDS_TEST_FHIR_BASE is not set."""

from __future__ import annotations

import os
import re
import uuid
import pytest
import requests

from cds_service.devtools import fixture_data
from cds_service.app import create_app
from cds_service.devtools.loader import load_bundles
from cds_service.devtools.invoke import request_from_server
from tests.clock import TODAY, fixed_clock
from tests.conftest import CardCheckingClient, make_settings
from tests.test_hooks_fixtures import MANIFEST, SERVICES, assert_matches_expectation

BASE = os.environ.get("CDS_TEST_FHIR_BASE", "").rstrip("/")
TOKEN = os.environ.get("CDS_TEST_FHIR_TOKEN") or None
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not BASE, reason="set CDS_TEST_FHIR_BASE to run against a FHIR sandbox"),
]
RUN = uuid.uuid4().hex[:8]
CASES = [(name, hook) for name in MANIFEST for hook in SERVICES]


@pytest.fixture(scope="module")
def sandbox():  # type: ignore[no-untyped-def]
    bundles = [  # index dates moved to the tests' clock's today, which the app reads
        fixture_data.with_run_suffix(
            fixture_data.rebase_dates(fixture_data.load_bundle(name), case.index_date, TODAY), RUN)
        for name, case in MANIFEST.items()
    ]
    load_bundles(BASE, bundles, TOKEN)
    yield
    headers = {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}
    for bundle in bundles:  # delete in reverse: references point backwards
        for resource in reversed(fixture_data.resources(bundle)):
            requests.delete(f"{BASE}/{resource['resourceType']}/{resource['id']}", headers=headers, timeout=30)


@pytest.fixture
def service(tmp_path, sandbox):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path, fhir={"allowed_servers": [BASE], "budget_seconds": 30,
                                                    "read_timeout": 20}), clock=fixed_clock)
    app.test_client_class = CardCheckingClient
    with app.test_client() as client:
        yield client


def without_suffix(body: dict) -> dict:
    """The answer as if ids had no run suffix, to compare with the manifest."""
    text = re.sub(f"-{RUN}", "", requests.compat.json.dumps(body))
    return requests.compat.json.loads(text)


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_sandbox_prefetch_and_fallback_agree(service, name: str, hook: str) -> None:  # type: ignore[no-untyped-def]
    definition = fixture_data.service_for_hook(hook)
    patient = f"{MANIFEST[name].patient_id}-{RUN}"
    answers = []
    for with_prefetch in (True, False):
        body = request_from_server(definition, BASE, patient, TOKEN, with_prefetch)
        if hook == "order-select":
            body["context"]["selections"] = [f"{MANIFEST[name].order}-{RUN}"]
        response = service.post(f"/cds-services/{SERVICES[hook]}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append(without_suffix(response.get_json()))
    cards = [[(c["source"]["topic"]["code"], c["indicator"], c["detail"]) for c in a["cards"]] for a in answers]
    assert cards[0] == cards[1]
    assert_matches_expectation(answers[1], name, hook)
