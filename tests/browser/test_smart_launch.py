"""The SMART pieces without the page: the test EHR verifies PKCE, and /timeline answers
with the EHR's token and refuses another one (the FHIR server behind it decides)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser.conftest import CLIENT_ID, Ehr

pytestmark = pytest.mark.integration


def _authorize(ehr: Ehr, service: str, verifier: str) -> str:
    """An authorization request as the app makes it; the code the EHR redirects with."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                         ).rstrip(b"=").decode()
    response = requests.get(f"{ehr.base}/auth/authorize", allow_redirects=False, timeout=10,
                            params={"response_type": "code", "client_id": CLIENT_ID,
                                    "redirect_uri": f"{service}/smart/app",
                                    "launch": ehr.launch("seed1-tmo-hip"), "state": "s1",
                                    "scope": "launch openid fhirUser patient/*.rs",
                                    "aud": ehr.fhir_base, "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def _token(ehr: Ehr, service: str, code: str, verifier: str) -> requests.Response:
    return requests.post(f"{ehr.base}/auth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
        "redirect_uri": f"{service}/smart/app", "code_verifier": verifier})


def test_ehr_verifies_pkce(ehr: Ehr, service: str) -> None:
    verifier = secrets.token_urlsafe(48)
    wrong = _token(ehr, service, _authorize(ehr, service, verifier), secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = _token(ehr, service, _authorize(ehr, service, verifier), verifier)
    assert right.status_code == 200
    body = right.json()
    assert body["patient"] == "seed1-tmo-hip" and body["token_type"] == "Bearer"
    assert body["id_token"].count(".") == 2


def test_timeline_with_the_ehr_token_and_a_wrong_one(ehr: Ehr, service: str) -> None:
    request = {"fhirServer": ehr.fhir_base, "patient": "seed1-tmo-hip", "side": "left"}
    good = requests.post(f"{service}/timeline", json=request, timeout=60,
                         headers={"Authorization": f"Bearer {ehr.state.fhir_token}"})
    assert good.status_code == 200
    assert good.json()["assessment"]["outcome"] == "toh-suspected"
    bad = requests.post(f"{service}/timeline", json=request, timeout=60,
                        headers={"Authorization": "Bearer not-the-token"})
    assert bad.status_code == 401
    assert bad.json()["issue"][0]["code"] == "login"
