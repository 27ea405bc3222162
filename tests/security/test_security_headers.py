"""Security headers on every response and CORS for browser clients (the sandbox)."""

from __future__ import annotations

import pytest

from cds_service.security import CorsConfig, cors_headers, is_preflight, security_headers

SANDBOX = "https://sandbox.cds-hooks.org"
CORS = CorsConfig(allowed_origins=[SANDBOX, "http://localhost:8080"])


def test_security_headers_plain_and_https():
    plain = security_headers(https=False)
    assert plain["X-Content-Type-Options"] == "nosniff"
    assert plain["Cache-Control"] == "no-store"
    assert plain["Referrer-Policy"] == "no-referrer"
    assert plain["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "Strict-Transport-Security" not in plain
    assert security_headers(https=True)["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_return_a_fresh_dict():
    security_headers(False)["Cache-Control"] = "public"
    assert security_headers(False)["Cache-Control"] == "no-store"


def test_preflight_from_the_sandbox():
    headers = cors_headers(CORS, SANDBOX, "OPTIONS", request_method="POST")
    assert headers == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": SANDBOX,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
    }
    assert "Access-Control-Allow-Credentials" not in headers


def test_simple_response_to_an_allowed_origin():
    headers = cors_headers(CORS, "http://localhost:8080", "POST")
    assert headers == {"Vary": "Origin", "Access-Control-Allow-Origin": "http://localhost:8080"}


@pytest.mark.parametrize(
    ("origin", "method", "request_method"),
    [
        ("https://evil.example", "POST", None),
        ("https://evil.example", "OPTIONS", "POST"),
        ("https://sandbox.cds-hooks.org.evil.example", "GET", None),
        ("null", "POST", None),
        (SANDBOX, "OPTIONS", "DELETE"),
        (None, "GET", None),
    ],
)
def test_not_allowed_gets_no_allow_headers(origin, method, request_method):
    assert cors_headers(CORS, origin, method, request_method) == {"Vary": "Origin"}


def test_no_cors_configured_means_no_headers():
    assert cors_headers(CorsConfig(), SANDBOX, "OPTIONS", "POST") == {}


def test_wildcard():
    headers = cors_headers(CorsConfig(allowed_origins=["*"]), "https://any.example", "GET")
    assert headers == {"Access-Control-Allow-Origin": "*"}


@pytest.mark.parametrize(
    ("method", "origin", "request_method", "expected"),
    [("OPTIONS", SANDBOX, "POST", True), ("OPTIONS", None, "POST", False),
     ("OPTIONS", SANDBOX, None, False), ("POST", SANDBOX, "POST", False)],
)
def test_is_preflight(method, origin, request_method, expected):
    assert is_preflight(method, origin, request_method) is expected
