"""jti replay memory (CDS Hooks 2.0 §Trusting CDS Clients: a ``jti`` is used once).

Each accepted ``(iss, jti)`` is remembered until the token can no longer be accepted.
Keys hold a SHA-256 digest of ``iss|jti``, never the token itself.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time
from typing import Protocol

import redis

from .config import CacheConfig
from .errors import SecurityUnavailable


def jti_key(prefix: str, iss: str, jti: str) -> str:
    """Namespaced store key: ``<prefix>jti:<sha256(iss|jti)>``."""
    digest = hashlib.sha256(f"{iss}|{jti}".encode()).hexdigest()
    return f"{prefix}jti:{digest}"


def redis_client(cache: CacheConfig) -> redis.Redis:
    """A Redis client with short timeouts: a request must not hang on the cache."""
    assert cache.url is not None
    return redis.Redis.from_url(
        cache.url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
    )


class ReplayGuard(Protocol):
    """Atomic "first time this (iss, jti) is seen?" test."""

    def first_seen(self, jti: str, iss: str, expires_at: int) -> bool:
        """Record (iss, jti) until ``expires_at`` (epoch s); False if already recorded."""
        ...


class MemoryReplayGuard:
    """Thread-safe in-process memory; expired entries are purged as time passes."""

    def __init__(self, prefix: str = "cds:", clock=time.time) -> None:
        self._prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []

    def first_seen(self, jti: str, iss: str, expires_at: int) -> bool:
        key = jti_key(self._prefix, iss, jti)
        with self._lock:
            self._purge(self._clock())
            if key in self._expiry:
                return False
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            expires_at, key = heapq.heappop(self._heap)
            if self._expiry.get(key) == expires_at:
                del self._expiry[key]

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._expiry)


class RedisReplayGuard:
    """Shared memory for several replicas: ``SET key 1 NX EXAT expires_at`` is atomic.

    Fails closed: if Redis cannot answer, raises SecurityUnavailable (never falls back to
    local memory, which would let another replica's token be replayed here).
    """

    def __init__(self, client: redis.Redis, prefix: str = "cds:", clock=time.time) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock

    def first_seen(self, jti: str, iss: str, expires_at: int) -> bool:
        key = jti_key(self._prefix, iss, jti)
        # EXAT in the past would delete the key at once; keep at least one second.
        expire = max(int(expires_at), int(self._clock()) + 1)
        try:
            return bool(self._client.set(key, b"1", nx=True, exat=expire))
        except redis.RedisError:
            raise SecurityUnavailable("replay_store_unavailable") from None


def make_replay_guard(cache: CacheConfig, client: redis.Redis | None = None) -> ReplayGuard:
    """Redis-backed guard when ``cache.url`` is set, else in-process memory."""
    if cache.url is None:
        return MemoryReplayGuard(prefix=cache.key_prefix)
    return RedisReplayGuard(client or redis_client(cache), prefix=cache.key_prefix)
