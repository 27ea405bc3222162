"""Fixtures for the browser tests: the test FHIR server with the fixture patients, the
test EHR in front of it (tests/browser/ehr.py), the service on a real HTTP port, and
headless chromium. Screenshots go to tests/browser/artifacts/ (git-ignored)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from cds_service.devtools import fixture_data
from cds_service.app import create_app
from cds_service.devtools.loader import load_bundles
from tests.browser.browser import chromium
from tests.browser.ehr import Client, EhrState, make_ehr_app
from tests.browser.servers import serving
from tests.clock import TODAY, fixed_clock
from tests.conftest import make_settings
from tests.integration.conftest import FhirServer, start_fhir_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CLIENT_ID = "cds-evidence-timeline"
PATIENTS = ("seed1-tmo-hip", "seed1-tmo-ankle", "steroid-avn", "pregnancy-toh", "septic-hip")


@dataclass
class Ehr:
    """The running test EHR: `fhir_base` is the `iss` it launches apps with."""

    base: str
    state: EhrState
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def fhir_base(self) -> str:
        return f"{self.base}/fhir"

    def launch(self, patient: str, app_context: str | None = None,
               user: str = "Practitioner/test-surgeon") -> str:
        """Register an EHR launch (the clinician opens the app for `patient`)."""
        launch_id = secrets.token_urlsafe(16)
        self.state.launches[launch_id] = {"patient": patient, "app_context": app_context,
                                          "user": user}
        return launch_id

    def launch_url(self, app_url: str, launch_id: str) -> str:
        return f"{app_url}?iss={self.fhir_base}&launch={launch_id}"


@pytest.fixture(scope="session")
def fhir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """The test FHIR server holding the patients, dates moved to the tests' clock."""
    cases = fixture_data.load_manifest()
    with start_fhir_server(tmp_path_factory.mktemp("browser_fhir")) as server:
        bundles = [fixture_data.rebase_dates(fixture_data.load_bundle(name),
                                             cases[name].index_date, TODAY) for name in PATIENTS]
        load_bundles(server.base_url, bundles, server.token)
        yield server


@pytest.fixture(scope="session")
def ehr(fhir: FhirServer) -> Iterator[Ehr]:
    state = EhrState(fhir_token=fhir.token)
    clients: dict[str, Client] = {}
    with serving(lambda base: make_ehr_app(state, fhir.base_url, base, clients)) as base:
        yield Ehr(base, state, clients)


@pytest.fixture(scope="session")
def service(ehr: Ehr, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service's base URL; the EHR registers its app's redirect URI."""
    folder = tmp_path_factory.mktemp("browser_service")

    def make(base: str):  # type: ignore[no-untyped-def]
        settings = make_settings(folder, fhir={"allowed_servers": [ehr.fhir_base]},
                                 service={"public_base_url": base},
                                 smart={"client_id": CLIENT_ID})
        return create_app(settings, clock=fixed_clock)

    with serving(make) as base:
        ehr.clients[CLIENT_ID] = Client(CLIENT_ID, f"{base}/smart/app")
        yield base


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium_profile")) as context:
        yield context


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
