"""Forged-token matrix (CDS Hooks 2.0 §Trusting CDS Clients): each forgery is refused with
the named check; valid ES384 and RS384 tokens are accepted.

Time comes from the test: tokens are issued at the fixed instant NOW and verified with
``now=NOW``, so no result depends on when (or how long after import) a test runs. The
wall-clock path (``now=None``) is checked with tokens minted inside the test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from security_support import AUD, ISS, Signer, bearer

from cds_service.security import AuthConfig, Authenticator, AuthError, IssuerConfig, KeyResolver
from cds_service.security.replay import MemoryReplayGuard


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


NOW = 1_795_000_000  # 2026-11-18T09:46:40Z: a fixed instant, never the wall clock


def hs256_with_public_pem(signer: Signer, now: int) -> str:
    """The key-confusion attack: HMAC-SHA256 keyed with the issuer's public key PEM."""
    header = {"alg": "HS256", "typ": "JWT", "kid": signer.kid}
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": "confused"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(signer.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def alg_none(signer: Signer, now: int) -> str:
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": "none"}
    return jwt.encode(claims, None, algorithm="none", headers={"kid": signer.kid, "typ": "JWT"})


def tampered(signer: Signer, now: int) -> str:
    head, payload, sig = signer.token(now=now).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    return f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"


FORGERIES = {
    # name: (build the Authorization header from (es384, rs384, stranger, now), expected check)
    "no token": (lambda e, r, s, t: None, "missing_token"),
    "empty header": (lambda e, r, s, t: "", "missing_token"),
    "not bearer": (lambda e, r, s, t: "Basic dXNlcjpwYXNz", "missing_token"),
    "garbage": (lambda e, r, s, t: "Bearer not.a.jwt", "malformed_token"),
    "alg none": (lambda e, r, s, t: bearer(alg_none(e, t)), "alg_not_allowed"),
    "HS256 with public key": (
        lambda e, r, s, t: bearer(hs256_with_public_pem(r, t)), "alg_not_allowed"),
    "HS256 with EC public key": (
        lambda e, r, s, t: bearer(hs256_with_public_pem(e, t)), "alg_not_allowed"),
    "wrong signature": (lambda e, r, s, t: bearer(s.token(now=t)), "bad_signature"),
    "tampered claims": (lambda e, r, s, t: bearer(tampered(e, t)), "bad_signature"),
    "expired": (
        lambda e, r, s, t: bearer(e.token({"iat": t - 900, "exp": t - 600}, now=t)), "expired"),
    "iat in future": (
        lambda e, r, s, t: bearer(e.token({"iat": t + 600, "exp": t + 900}, now=t)),
        "iat_in_future"),
    "wrong aud": (
        lambda e, r, s, t: bearer(e.token({"aud": AUD + "-other"}, now=t)), "aud_mismatch"),
    "aud array without us": (
        lambda e, r, s, t: bearer(
            e.token({"aud": ["https://a.example", "https://b.example"]}, now=t)),
        "aud_mismatch"),
    "unknown iss": (lambda e, r, s, t: bearer(e.token({"iss": "https://evil.example"}, now=t)),
                    "unknown_issuer"),
    "unknown kid": (
        lambda e, r, s, t: bearer(e.token(headers={"kid": "nope"}, now=t)), "unknown_kid"),
    "jku not on list": (
        lambda e, r, s, t: bearer(e.token(headers={"jku": "https://evil.example/jwks"}, now=t)),
        "jku_not_allowed"),
    "missing jti": (lambda e, r, s, t: bearer(e.token(drop=["jti"], now=t)), "missing_jti"),
    "empty jti": (lambda e, r, s, t: bearer(e.token({"jti": ""}, now=t)), "missing_jti"),
    "missing exp": (lambda e, r, s, t: bearer(e.token(drop=["exp"], now=t)), "missing_claim"),
    "missing aud": (lambda e, r, s, t: bearer(e.token(drop=["aud"], now=t)), "missing_claim"),
    "missing iss": (lambda e, r, s, t: bearer(e.token(drop=["iss"], now=t)), "missing_claim"),
    "typ missing": (lambda e, r, s, t: bearer(e.token(headers={"typ": None}, now=t)), "typ"),
    "typ other": (lambda e, r, s, t: bearer(e.token(headers={"typ": "at+jwt"}, now=t)), "typ"),
    "kid missing": (
        lambda e, r, s, t: bearer(e.token(headers={"kid": None}, now=t)), "missing_kid"),
    "too long lived": (
        lambda e, r, s, t: bearer(e.token({"iat": t, "exp": t + 7200}, now=t)),
        "token_too_long_lived"),
    "EC alg on the RSA kid": (
        lambda e, r, s, t: bearer(e.token(headers={"kid": r.kid}, now=t)), "alg_not_allowed"),
}


@pytest.mark.parametrize("clock", ["fixed", "wall"])
@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_token_refused(authenticator, es384, rs384, stranger, name, clock):
    """``fixed``: our checks at NOW; ``wall``: the production path, PyJWT's checks too."""
    build, check = FORGERIES[name]
    issued = NOW if clock == "fixed" else int(time.time())
    header = build(es384, rs384, stranger, issued)
    with pytest.raises(AuthError) as caught:
        authenticator.verify(header, AUD, now=NOW if clock == "fixed" else None)
    assert caught.value.check == check
    token = (header or "").removeprefix("Bearer ")
    if token:
        assert token not in repr(caught.value.args) and token not in str(caught.value)
        error = caught.value  # no chained PyJWT exception carrying token details
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_replayed_jti_refused(auth_config, es384):
    # the replay memory forgets a jti by its own clock: give it the test's
    replay = MemoryReplayGuard(clock=lambda: NOW)
    authenticator = Authenticator(auth_config, replay, KeyResolver(auth_config))
    token = es384.token(now=NOW)
    authenticator.verify(bearer(token), AUD, now=NOW)
    with pytest.raises(AuthError) as caught:
        authenticator.verify(bearer(token), AUD, now=NOW + 1)
    assert caught.value.check == "replayed_jti"


def test_replayed_jti_refused_on_the_wall_clock(authenticator, es384):
    token = es384.token()
    authenticator.verify(bearer(token), AUD)
    with pytest.raises(AuthError) as caught:
        authenticator.verify(bearer(token), AUD)
    assert caught.value.check == "replayed_jti"


@pytest.mark.parametrize("signer_name", ["es384", "rs384"])
def test_valid_token_accepted(authenticator, request, signer_name):
    signer = request.getfixturevalue(signer_name)
    principal = authenticator.verify(bearer(signer.token(now=NOW)), AUD, now=NOW)
    assert (principal.iss, principal.sub, principal.tenant) == (ISS, "client-1", None)
    assert principal.issuer.iss == ISS
    # the wall-clock path (PyJWT's time checks too), with a token minted just now
    assert authenticator.verify(bearer(signer.token()), AUD).iss == ISS


def test_other_rsa_algorithms_accepted(authenticator, rs384):
    for alg in ("RS256", "PS384", "PS512"):
        token = jwt.encode({"iss": ISS, "aud": [AUD, "x"], "iat": NOW, "exp": NOW + 60,
                            "jti": alg}, rs384.private_key, algorithm=alg,
                           headers={"kid": rs384.kid, "typ": "JWT"})
        assert authenticator.verify(bearer(token), AUD, now=NOW + 30).iss == ISS


def test_clock_skew_tolerated(authenticator, es384):
    token = es384.token({"iat": NOW + 30, "exp": NOW + 300})
    assert authenticator.verify(bearer(token), AUD, now=NOW).iss == ISS
    old = es384.token({"iat": NOW - 400, "exp": NOW - 30})
    assert authenticator.verify(bearer(old), AUD, now=NOW).iss == ISS


def test_clock_skew_tolerated_on_the_wall_clock(authenticator, es384):
    """PyJWT's own time checks (now=None) use the same leeway."""
    now = int(time.time())
    token = es384.token({"iat": now + 30, "exp": now + 300})
    assert authenticator.verify(bearer(token), AUD).iss == ISS
    old = es384.token({"iat": now - 400, "exp": now - 30})
    assert authenticator.verify(bearer(old), AUD).iss == ISS


def test_injected_now_decides_time_checks(authenticator, es384):
    token = es384.token(now=NOW)
    with pytest.raises(AuthError) as caught:
        authenticator.verify(bearer(token), AUD, now=NOW + 3600)
    assert caught.value.check == "expired"
    with pytest.raises(AuthError) as caught:
        authenticator.verify(bearer(token), AUD, now=NOW - 3600)
    assert caught.value.check == "iat_in_future"


def test_audience_list_accepted(authenticator, es384):
    feedback = AUD + "/feedback"
    assert authenticator.verify(bearer(es384.token({"aud": feedback}, now=NOW)), [AUD, feedback],
                                now=NOW)


def _tenant_authenticator(es384: Signer) -> Authenticator:
    issuer = IssuerConfig(iss=ISS, jwks={"keys": [es384.jwk]}, tenant="hospital-a")
    config = AuthConfig(required=True, issuers=[issuer])
    return Authenticator(config, MemoryReplayGuard(), KeyResolver(config))


@pytest.mark.parametrize("claims", [{}, {"tenant": "hospital-b"}])
def test_tenant_mismatch(es384, claims):
    with pytest.raises(AuthError) as caught:
        _tenant_authenticator(es384).verify(bearer(es384.token(claims, now=NOW)), AUD, now=NOW)
    assert caught.value.check == "tenant_mismatch"


def test_tenant_match(es384):
    principal = _tenant_authenticator(es384).verify(
        bearer(es384.token({"tenant": "hospital-a"}, now=NOW)), AUD, now=NOW)
    assert principal.tenant == "hospital-a"


def test_algorithm_list_narrows(es384, rs384):
    issuer = IssuerConfig(iss=ISS, jwks={"keys": [es384.jwk, rs384.jwk]})
    config = AuthConfig(issuers=[issuer], algorithms=["ES384"])
    with pytest.raises(AuthError) as caught:
        Authenticator(config, MemoryReplayGuard(), KeyResolver(config)).verify(
            bearer(rs384.token(now=NOW)), AUD, now=NOW)
    assert caught.value.check == "alg_not_allowed"


def test_unknown_check_name_rejected():
    with pytest.raises(ValueError):
        AuthError("whatever")


def _raw_token(header: dict, claims: str) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(claims.encode())}.c2ln"


@pytest.mark.parametrize(
    ("header", "claims", "check"),
    [
        ({"alg": ["ES384"], "typ": "JWT", "kid": "ec-1"}, "{}", "alg_not_allowed"),
        ({"alg": "ES384", "typ": "JWT", "kid": 7}, "{}", "malformed_token"),
        ({"alg": "ES384", "typ": "JWT", "kid": "ec-1", "jku": 1}, "{}", "malformed_token"),
        ({"alg": "ES384", "typ": "JWT", "kid": "ec-1"}, "[1]", "malformed_token"),
        ({"alg": "ES384", "typ": "JWT", "kid": "ec-1"}, '{"iss": 5}', "unknown_issuer"),
    ],
)
def test_odd_json_shapes_refused(authenticator, header, claims, check):
    with pytest.raises(AuthError) as caught:
        authenticator.verify(bearer(_raw_token(header, claims)), AUD, now=NOW)
    assert caught.value.check == check


def test_nan_exp_is_malformed_not_a_crash(authenticator, es384):
    """Python's json accepts NaN; a token signed by a trusted key must still not crash us."""
    for now, issued in ((None, int(time.time())), (NOW, NOW)):  # PyJWT's clock, then ours
        claims = f'{{"iss": "{ISS}", "aud": "{AUD}", "iat": {issued}, "exp": NaN, "jti": "n"}}'
        token = jwt.api_jws.PyJWS().encode(claims.encode(), es384.private_key, algorithm="ES384",
                                           headers={"kid": es384.kid, "typ": "JWT"})
        with pytest.raises(AuthError) as caught:
            authenticator.verify(bearer(token), AUD, now=now)
        assert caught.value.check == "malformed_token"
