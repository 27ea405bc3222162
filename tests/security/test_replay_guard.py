"""jti replay memory: in-process and Redis (SET NX EXAT), shared by two Authenticators and
by two separate processes (CDS Hooks 2.0 §Trusting CDS Clients: jti remembered until exp)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from security_support import AUD, ISS, REDIS_URL, FakeClock, bearer

from cds_service.security import (
    AuthConfig,
    Authenticator,
    AuthError,
    CacheConfig,
    IssuerConfig,
    KeyResolver,
    SecurityUnavailable,
    build_authenticator,
    make_replay_guard,
)
from cds_service.security.replay import MemoryReplayGuard, RedisReplayGuard, jti_key

WORKER = Path(__file__).with_name("replay_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def test_memory_guard_first_seen_once_and_purges():
    clock = FakeClock()
    guard = MemoryReplayGuard(clock=clock)
    assert guard.first_seen("a", ISS, int(clock.now) + 10)
    assert not guard.first_seen("a", ISS, int(clock.now) + 10)
    assert guard.first_seen("a", "https://other.example", int(clock.now) + 10)
    assert len(guard) == 2
    clock.advance(11)
    assert len(guard) == 0
    assert guard.first_seen("a", ISS, int(clock.now) + 10)


def test_memory_guard_is_atomic_across_threads():
    guard = MemoryReplayGuard()
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        barrier.wait()
        results.append(guard.first_seen("same", ISS, int(time.time()) + 60))

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_jti_remembered_until_exp_plus_skew(authenticator, es384):
    seen = []

    class Recorder:
        def first_seen(self, jti, iss, expires_at):
            seen.append((jti, iss, expires_at))
            return True

    authenticator._replay = Recorder()
    now = int(time.time())
    authenticator.verify(bearer(es384.token({"jti": "j1", "exp": now + 100})), AUD)
    assert seen == [("j1", ISS, now + 100 + authenticator.config.clock_skew_seconds)]


def test_factory_picks_the_backend():
    assert isinstance(make_replay_guard(CacheConfig()), MemoryReplayGuard)
    assert isinstance(make_replay_guard(CacheConfig(url=REDIS_URL)), RedisReplayGuard)


def test_redis_down_fails_closed():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    guard = make_replay_guard(CacheConfig(url=f"redis://127.0.0.1:{port}/0"))
    with pytest.raises(SecurityUnavailable) as caught:
        guard.first_seen("j", ISS, int(time.time()) + 60)
    assert caught.value.check == "replay_store_unavailable"


@pytest.mark.integration
def test_redis_keys_hold_a_digest_and_expire(redis_prefix):
    client = redis.Redis.from_url(REDIS_URL)
    guard = RedisReplayGuard(client, prefix=redis_prefix)
    expires_at = int(time.time()) + 120
    assert guard.first_seen("jti-secret-looking", ISS, expires_at)
    assert not guard.first_seen("jti-secret-looking", ISS, expires_at)
    (key,) = client.keys(redis_prefix + "*")
    assert key.decode() == jti_key(redis_prefix, ISS, "jti-secret-looking")
    assert re.fullmatch(re.escape(redis_prefix) + r"jti:[0-9a-f]{64}", key.decode())
    assert 110 <= client.ttl(key) <= 120


@pytest.mark.integration
def test_two_authenticators_share_replay_memory(auth_config, es384, redis_prefix):
    cache = CacheConfig(url=REDIS_URL, key_prefix=redis_prefix)
    first, second = (build_authenticator(auth_config, cache) for _ in range(2))
    token = es384.token()
    assert first.verify(bearer(token), AUD).iss == ISS
    with pytest.raises(AuthError) as caught:
        second.verify(bearer(token), AUD)
    assert caught.value.check == "replayed_jti"


def _worker_config(tmp_path: Path, signers, prefix: str) -> str:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [s.jwk for s in signers]}))
    return json.dumps({
        "auth": {"required": True, "issuers": [{"iss": ISS, "jwks_file": str(jwks_file)}]},
        "cache": {"url": REDIS_URL, "key_prefix": prefix},
        "audience": AUD,
    })


def _start(config: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(WORKER), config], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=10)
    proc.stdout.close()


def _ask(proc: subprocess.Popen, token: str) -> str:
    proc.stdin.write(token + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


@pytest.mark.integration
def test_two_processes_refuse_each_others_replayed_token(tmp_path, es384, rs384, redis_prefix):
    config = _worker_config(tmp_path, [es384, rs384], redis_prefix)
    replica_a, replica_b = _start(config), _start(config)
    try:
        first, second = es384.token(), rs384.token()
        assert _ask(replica_a, first) == "ok"
        assert _ask(replica_b, first) == "replayed_jti"
        assert _ask(replica_b, second) == "ok"
        assert _ask(replica_a, second) == "replayed_jti"
        assert _ask(replica_a, first) == "replayed_jti"
    finally:
        for proc in (replica_a, replica_b):
            _stop(proc)


@pytest.mark.integration
def test_concurrent_processes_accept_a_token_exactly_once(tmp_path, es384, redis_prefix):
    config = _worker_config(tmp_path, [es384], redis_prefix)
    replicas = [_start(config) for _ in range(6)]
    token = es384.token()
    try:
        for proc in replicas:  # send to all before reading any answer
            proc.stdin.write(token + "\n")
            proc.stdin.flush()
        answers = sorted(proc.stdout.readline().strip() for proc in replicas)
    finally:
        for proc in replicas:
            _stop(proc)
    assert answers == ["ok"] + ["replayed_jti"] * 5


def test_jwks_file_rotation_on_disk(tmp_path, es384, rs384):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [es384.jwk]}))
    config = AuthConfig(issuers=[IssuerConfig(iss=ISS, jwks_file=str(path))])
    auth = Authenticator(config, MemoryReplayGuard(), KeyResolver(config))
    with pytest.raises(AuthError) as caught:
        auth.verify(bearer(rs384.token()), AUD)
    assert caught.value.check == "unknown_kid"
    path.write_text(json.dumps({"keys": [es384.jwk, rs384.jwk]}))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert auth.verify(bearer(rs384.token()), AUD).iss == ISS
