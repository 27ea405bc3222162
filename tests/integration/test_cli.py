"""`cds-service fixtures load` and `invoke` against the real test FHIR server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.test_hooks_fixtures import MANIFEST

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "cds_service.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess (pass a token as --token=T: a random token may begin with -)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False)


def test_fixtures_load_prints_patient_ids_and_is_idempotent(fhir_server) -> None:  # type: ignore[no-untyped-def]
    first = run("fixtures", "load", "--fhir-server", fhir_server.base_url, f"--token={fhir_server.token}")
    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.split()) == sorted(c.patient_id for c in MANIFEST.values())
    again = run("fixtures", "load", "--fhir-server", fhir_server.base_url, f"--token={fhir_server.token}")
    assert again.returncode == 0 and again.stdout == first.stdout
    assert fhir_server.token not in first.stdout + first.stderr


def test_invoke_builds_the_request_from_the_server(fhir_server) -> None:  # type: ignore[no-untyped-def]
    run("fixtures", "load", "--fhir-server", fhir_server.base_url, f"--token={fhir_server.token}")
    result = run("invoke", "--service", "toh-core-decompression-select", "--fhir-server", fhir_server.base_url,
                 f"--token={fhir_server.token}", "--patient", "seed1-tmo-hip", "--print-request")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["fhirServer"] == fhir_server.base_url and body["hook"] == "order-select"
    assert "ServiceRequest/seed1-tmo-hip-order" in body["context"]["selections"]  # every draft selected
    reports = body["prefetch"]["reports"]["entry"]
    assert "DiagnosticReport/seed1-tmo-hip-mri-report" in {
        f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in reports}
    no_prefetch = run("invoke", "--fhir-server", fhir_server.base_url, f"--token={fhir_server.token}",
                      "--patient", "seed1-tmo-hip", "--print-request", "--no-prefetch")
    assert "prefetch" not in json.loads(no_prefetch.stdout)
