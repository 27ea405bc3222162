"""jwks_url and jku key lookup against a real HTTP server on 127.0.0.1, counting fetches:
cache, one refetch on an unknown kid, no flood, rotation, outage, limits, Redis sharing."""

from __future__ import annotations

import json

import pytest
import redis
from security_support import AUD, ISS, REDIS_URL, FakeClock, Signer, bearer
from cryptography.hazmat.primitives.asymmetric import ec

from cds_service.security import (
    AuthConfig,
    Authenticator,
    AuthError,
    IssuerConfig,
    KeyResolver,
    SecurityUnavailable,
)
from cds_service.security.jwks_store import HttpJwksFetcher, RedisJwksStore
from cds_service.security.replay import MemoryReplayGuard

REFRESH = 30
TTL = 300


def _config(server, **issuer) -> AuthConfig:
    issuer = {"iss": ISS, "jwks_url": server.base + "/jwks", **issuer}
    return AuthConfig(required=True, issuers=[IssuerConfig(**issuer)],
                      jwks_cache_seconds=TTL, jwks_refresh_interval_seconds=REFRESH)


def _auth(config, clock, store=None, fetcher=None) -> Authenticator:
    resolver = KeyResolver(config, store, fetcher, clock=clock)
    return Authenticator(config, MemoryReplayGuard(), resolver)


def _check(auth, token) -> str:
    with pytest.raises((AuthError, SecurityUnavailable)) as caught:
        auth.verify(bearer(token), AUD)
    return caught.value.check


def test_cached_then_one_refetch_per_unknown_kid_burst(jwks_server, es384, rs384):
    jwks_server.serve_jwks("/jwks", es384.jwk)
    clock = FakeClock()
    auth = _auth(_config(jwks_server), clock)
    for _ in range(5):
        auth.verify(bearer(es384.token()), AUD)
    assert jwks_server.hits == {"/jwks": 1}

    assert _check(auth, es384.token(headers={"kid": "unknown-0"})) == "unknown_kid"
    assert jwks_server.hits["/jwks"] == 2  # one refetch
    for n in range(1, 50):  # kid flooding
        assert _check(auth, es384.token(headers={"kid": f"unknown-{n}"})) == "unknown_kid"
    assert jwks_server.hits["/jwks"] == 2

    clock.advance(REFRESH + 1)
    assert _check(auth, rs384.token()) == "unknown_kid"
    assert jwks_server.hits["/jwks"] == 3


def test_key_rotation_picked_up_by_refetch(jwks_server, es384):
    jwks_server.serve_jwks("/jwks", es384.jwk)
    auth = _auth(_config(jwks_server), FakeClock())
    auth.verify(bearer(es384.token()), AUD)
    rotated = Signer(ec.generate_private_key(ec.SECP384R1()), "ec-2", "ES384")
    jwks_server.serve_jwks("/jwks", es384.jwk, rotated.jwk)
    assert auth.verify(bearer(rotated.token()), AUD).iss == ISS
    assert jwks_server.hits["/jwks"] == 2


def test_cache_expires_after_ttl(jwks_server, es384):
    jwks_server.serve_jwks("/jwks", es384.jwk)
    clock = FakeClock()
    auth = _auth(_config(jwks_server), clock)
    auth.verify(bearer(es384.token()), AUD)
    clock.advance(TTL - 1)
    auth.verify(bearer(es384.token()), AUD)
    assert jwks_server.hits["/jwks"] == 1
    clock.advance(2)
    auth.verify(bearer(es384.token()), AUD)
    assert jwks_server.hits["/jwks"] == 2


def test_jku_on_the_list_is_used_instead_of_jwks_url(jwks_server, es384, rs384):
    jku = jwks_server.serve_jwks("/jku", es384.jwk)
    jwks_server.serve_jwks("/jwks", rs384.jwk)
    auth = _auth(_config(jwks_server, allowed_jku=[jku]), FakeClock())
    assert auth.verify(bearer(es384.token(headers={"jku": jku})), AUD).iss == ISS
    assert jwks_server.hits == {"/jku": 1}


def test_jku_off_the_list_is_never_fetched(jwks_server, es384):
    jku = jwks_server.serve_jwks("/jku", es384.jwk)
    auth = _auth(_config(jwks_server, allowed_jku=[jwks_server.base + "/other"]), FakeClock())
    assert _check(auth, es384.token(headers={"jku": jku})) == "jku_not_allowed"
    assert jwks_server.hits == {}


def test_outage_without_cache_is_unavailable_and_backs_off(jwks_server, es384):
    jwks_server.routes["/jwks"] = (500, b"{}", {})
    clock = FakeClock()
    auth = _auth(_config(jwks_server), clock)
    for _ in range(5):
        assert _check(auth, es384.token()) == "jwks_unavailable"
    assert jwks_server.hits["/jwks"] == 1
    clock.advance(6)
    jwks_server.serve_jwks("/jwks", es384.jwk)
    assert auth.verify(bearer(es384.token()), AUD).iss == ISS


def test_stale_keys_serve_through_an_outage(jwks_server, es384):
    jwks_server.serve_jwks("/jwks", es384.jwk)
    clock = FakeClock()
    auth = _auth(_config(jwks_server), clock)
    auth.verify(bearer(es384.token()), AUD)
    jwks_server.routes["/jwks"] = (503, b"", {})
    clock.advance(TTL + 10)
    for _ in range(3):
        assert auth.verify(bearer(es384.token()), AUD).iss == ISS
    assert jwks_server.hits["/jwks"] == 2


@pytest.mark.parametrize(
    "route",
    [
        (200, b"x" * (256 * 1024 + 1), {}),
        (200, b"not json", {}),
        (200, b'{"no": "keys"}', {}),
        (302, b"", {"Location": "/elsewhere"}),
    ],
    ids=["oversized", "not-json", "not-a-jwks", "redirect"],
)
def test_bad_responses_refused(jwks_server, es384, route):
    jwks_server.routes["/jwks"] = route
    jwks_server.serve_jwks("/elsewhere", es384.jwk)
    auth = _auth(_config(jwks_server), FakeClock())
    assert _check(auth, es384.token()) == "jwks_unavailable"
    assert "/elsewhere" not in jwks_server.hits


def test_private_members_in_fetched_jwks_are_ignored(jwks_server, es384):
    leaked = {**es384.jwk, "d": "AAAA"}
    jwks_server.routes["/jwks"] = (200, json.dumps({"keys": [leaked]}).encode(), {})
    auth = _auth(_config(jwks_server), FakeClock())
    assert _check(auth, es384.token()) == "unknown_kid"


def test_fetcher_size_limit_and_connection_refused(jwks_server):
    jwks_server.routes["/big"] = (200, b"{" + b" " * 2000 + b"}", {})
    with pytest.raises(Exception, match="larger than 1000"):
        HttpJwksFetcher(max_bytes=1000)(jwks_server.base + "/big")
    with pytest.raises(Exception, match="ConnectionError"):
        HttpJwksFetcher(connect_timeout=0.5)("http://127.0.0.1:9/jwks")


@pytest.mark.integration
def test_jwks_cache_and_refetch_throttle_shared_through_redis(jwks_server, es384, redis_prefix):
    jwks_server.serve_jwks("/jwks", es384.jwk)
    config = _config(jwks_server)
    clock = FakeClock()
    replicas = []
    for _ in range(2):
        client = redis.Redis.from_url(REDIS_URL)
        replicas.append(_auth(config, clock, RedisJwksStore(client, redis_prefix, clock)))
    replicas[0].verify(bearer(es384.token()), AUD)
    replicas[1].verify(bearer(es384.token()), AUD)
    assert jwks_server.hits["/jwks"] == 1  # the second replica read Redis

    assert _check(replicas[0], es384.token(headers={"kid": "new-a"})) == "unknown_kid"
    assert _check(replicas[1], es384.token(headers={"kid": "new-b"})) == "unknown_kid"
    assert jwks_server.hits["/jwks"] == 2  # one refetch for both replicas
    stored = redis.Redis.from_url(REDIS_URL).keys(redis_prefix + "jwks:*")
    assert len(stored) == 1
