"""Fetching and caching of remote JWK Sets (jwks_url, jku).

The cache holds the issuer's public JWKS JSON only, never any secret of ours. With
``[cache] url`` set it lives in Redis so replicas share it, else in process memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import requests

log = logging.getLogger("cds_service.security")


class JwksFetchError(Exception):
    """The JWKS could not be fetched or is not a JWK Set (message holds no secrets)."""


def jwks_digest(jwks: dict[str, Any]) -> str:
    """Content digest of a JWK Set (identifies a parsed copy across fetches)."""
    return hashlib.sha256(json.dumps(jwks, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CachedJwks:
    """A JWK Set, the epoch time it was fetched and its content digest."""

    fetched_at: float
    jwks: dict[str, Any]
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", jwks_digest(self.jwks))


class JwksStore(Protocol):
    """Where fetched JWK Sets are kept, and the unknown-kid refetch throttle."""

    def load(self, url: str) -> CachedJwks | None: ...

    def save(self, url: str, entry: CachedJwks, keep_seconds: int) -> None: ...

    def claim_refresh(self, url: str, interval_seconds: int) -> bool:
        """True for at most one caller per interval per URL (the one that may refetch)."""
        ...


class MemoryJwksStore:
    """In-process store (thread-safe)."""

    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, CachedJwks]] = {}
        self._refresh_after: dict[str, float] = {}

    def load(self, url: str) -> CachedJwks | None:
        with self._lock:
            item = self._entries.get(url)
        if item is None or item[0] <= self._clock():
            return None
        return item[1]

    def save(self, url: str, entry: CachedJwks, keep_seconds: int) -> None:
        with self._lock:
            self._entries[url] = (self._clock() + keep_seconds, entry)

    def claim_refresh(self, url: str, interval_seconds: int) -> bool:
        now = self._clock()
        with self._lock:
            if now < self._refresh_after.get(url, 0.0):
                return False
            self._refresh_after[url] = now + interval_seconds
            return True


class RedisJwksStore:
    """Redis store shared by replicas; on Redis errors it degrades to in-process memory."""

    def __init__(self, client: redis.Redis, prefix: str = "cds:", clock=time.time) -> None:
        self._client = client
        self._prefix = prefix
        self._fallback = MemoryJwksStore(clock)

    def _key(self, kind: str, url: str) -> str:
        return f"{self._prefix}{kind}:{hashlib.sha256(url.encode()).hexdigest()}"

    def load(self, url: str) -> CachedJwks | None:
        try:
            raw = self._client.get(self._key("jwks", url))
        except redis.RedisError:
            log.warning("jwks cache: redis unavailable, using process memory")
            return self._fallback.load(url)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return CachedJwks(float(data["fetched_at"]), dict(data["jwks"]), str(data["digest"]))
        except (ValueError, KeyError, TypeError):
            return None

    def save(self, url: str, entry: CachedJwks, keep_seconds: int) -> None:
        self._fallback.save(url, entry, keep_seconds)
        payload = json.dumps(
            {"fetched_at": entry.fetched_at, "jwks": entry.jwks, "digest": entry.digest}
        )
        try:
            self._client.set(self._key("jwks", url), payload, ex=max(1, int(keep_seconds)))
        except redis.RedisError:
            log.warning("jwks cache: redis unavailable, kept in process memory")

    def claim_refresh(self, url: str, interval_seconds: int) -> bool:
        try:
            key = self._key("jwks-refresh", url)
            return bool(self._client.set(key, b"1", nx=True, ex=max(1, int(interval_seconds))))
        except redis.RedisError:
            return self._fallback.claim_refresh(url, interval_seconds)


class HttpJwksFetcher:
    """GET a JWKS with connect/read timeouts, a total deadline, a size limit, no redirects."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 5.0,
        total_timeout: float = 8.0,
        max_bytes: int = 256 * 1024,
    ) -> None:
        self._session = session or requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._total = total_timeout
        self._max_bytes = max_bytes

    def __call__(self, url: str) -> dict[str, Any]:
        deadline = time.monotonic() + self._total
        try:
            response = self._session.get(
                url,
                timeout=self._timeout,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/jwk-set+json, application/json"},
            )
        except requests.RequestException as exc:
            raise JwksFetchError(f"{type(exc).__name__} fetching {url}") from None
        with response:
            if response.status_code != 200:
                raise JwksFetchError(f"HTTP {response.status_code} from {url}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise JwksFetchError(f"JWKS from {url} larger than {self._max_bytes} bytes")
            body = bytearray()
            try:
                for chunk in response.iter_content(chunk_size=16384):
                    body.extend(chunk)
                    if len(body) > self._max_bytes:
                        raise JwksFetchError(f"JWKS from {url} larger than {self._max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise JwksFetchError(f"JWKS from {url} exceeded {self._total}s")
            except requests.RequestException as exc:
                raise JwksFetchError(f"{type(exc).__name__} reading {url}") from None
        try:
            jwks = json.loads(bytes(body))
        except ValueError:
            raise JwksFetchError(f"JWKS from {url} is not JSON") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise JwksFetchError(f'JWKS from {url} has no "keys" array')
        return jwks
