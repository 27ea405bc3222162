"""Per-issuer fhirServer allowlist (CDS Hooks 2.0 §Security: SSRF via fhirServer)."""

from __future__ import annotations

import pytest
from security_support import AUD, bearer

from cds_service.security import fhir_server_allowed, normalize_url, url_allowed


@pytest.mark.parametrize(
    ("fhir_server", "allowed"),
    [
        ("https://fhir.example.org/r4", True),
        ("https://fhir.example.org/r4/", True),
        ("HTTPS://FHIR.example.org:443/r4", True),
        ("https://fhir.example.org/r4/Patient", False),
        ("https://fhir.example.org/r5", False),
        ("https://fhir.example.org/R4", False),
        ("http://fhir.example.org/r4", False),
        ("https://fhir.example.org:8443/r4", False),
        ("https://fhir.example.org.evil.example/r4", False),
        ("https://user@fhir.example.org/r4", False),
        ("https://fhir.example.org/r4?x=1", False),
        ("https://127.0.0.1/r4", False),
        ("not a url", False),
        ("", False),
    ],
)
def test_fhir_server_allowed(authenticator, es384, fhir_server, allowed):
    principal = authenticator.verify(bearer(es384.token()), AUD)
    assert fhir_server_allowed(principal, fhir_server) is allowed


def test_normalize_url():
    assert normalize_url("https://Fhir.Example.org/r4/") == "https://fhir.example.org:443/r4"
    assert normalize_url("http://[::1]:8080/fhir") == "http://[::1]:8080/fhir"
    assert normalize_url("https://h:99999/x") is None


def test_empty_allowlist_allows_nothing():
    assert not url_allowed("https://fhir.example.org/r4", [])
