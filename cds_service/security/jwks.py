"""Key lookup per issuer: inline JWKS, JWKS file, ``jwks_url`` or an allowed ``jku``.

CDS Hooks 2.0 §Trusting CDS Clients: the service keeps, per trusted ``iss``, its JWKS
(a URL or keys in config) and the ``jku`` URLs it may name. A token's ``jku`` must be on
the issuer's list; its key is then taken from the configured set (``jwks`` or
``jwks_file``) when that set holds the ``kid``, and fetched from the ``jku`` only
otherwise (the HL7 sandbox names its key set in every token). A remote set is cached for
``jwks_cache_seconds``; a ``kid`` missing from a cached set triggers at most one refetch
per ``jwks_refresh_interval_seconds`` (shared across replicas with Redis) so a stream of
invented kids cannot flood the issuer. Stale keys keep serving through an outage of
the issuer for ``max_stale_seconds``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK, PyJWTError

from .config import PRIVATE_JWK_MEMBERS, AuthConfig, IssuerConfig
from .errors import AuthError, SecurityUnavailable
from .jwks_store import CachedJwks, HttpJwksFetcher, JwksFetchError, JwksStore, MemoryJwksStore

log = logging.getLogger("cds_service.security")

_RSA = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class VerificationKey:
    """A public key and the algorithms it may verify (its family, narrowed by JWK ``alg``)."""

    kid: str
    key: Any
    algorithms: frozenset[str]


def _family(jwk: dict[str, Any]) -> frozenset[str]:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "RSA":
        family = _RSA
    elif kty == "EC" and crv in _EC_BY_CURVE:
        family = frozenset({_EC_BY_CURVE[crv]})
    elif kty == "OKP" and crv in ("Ed25519", "Ed448"):
        family = frozenset({"EdDSA"})
    else:
        family = frozenset()
    alg = jwk.get("alg")
    return family & {alg} if alg is not None else family


def parse_jwks(
    jwks: Any, allowed: frozenset[str]
) -> tuple[dict[str, VerificationKey], list[str]]:
    """Usable signature keys by kid, and a list of problems (skipped members)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return {}, ["not a JWK Set"]
    keys: dict[str, VerificationKey] = {}
    problems: list[str] = []
    for jwk in jwks["keys"]:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not isinstance(kid, str) or not kid:
            problems.append("member without a kid")
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        if kid in keys:
            problems.append(f"duplicate kid {kid!r}, first kept")
            continue
        if jwk.get("kty") == "oct" or PRIVATE_JWK_MEMBERS & jwk.keys():
            problems.append(f"kid {kid!r} is private or symmetric, refused")
            continue
        family = _family(jwk) & allowed
        if not family:  # e.g. an RSA key while only ES384 is configured: not a defect
            continue
        try:
            key = PyJWK(jwk, algorithm=min(family)).key
        except PyJWTError:
            problems.append(f"kid {kid!r} is not a valid key")
            continue
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            problems.append(f"kid {kid!r} RSA key shorter than {MIN_RSA_BITS} bits")
            continue
        keys[kid] = VerificationKey(kid, key, frozenset(family))
    return keys, problems


class KeyResolver:
    """Finds the verification key for (issuer, kid, jku); static keys load at startup."""

    def __init__(
        self,
        config: AuthConfig,
        store: JwksStore | None = None,
        fetcher: Callable[[str], dict[str, Any]] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        max_stale_seconds: int = 86400,
        failure_backoff_seconds: float = 5.0,
    ) -> None:
        self._allowed = frozenset(config.algorithms)
        self._ttl = config.jwks_cache_seconds
        self._refresh_interval = config.jwks_refresh_interval_seconds
        self._store = store or MemoryJwksStore(clock)
        self._fetch = fetcher or HttpJwksFetcher()
        self._clock = clock
        self._max_stale = max(max_stale_seconds, self._ttl)
        self._backoff = failure_backoff_seconds
        self._lock = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}
        self._failed_until: dict[str, float] = {}
        self._parsed: OrderedDict[tuple[str, str], dict[str, VerificationKey]] = OrderedDict()
        self._static: dict[str, dict[str, VerificationKey]] = {}
        self._files: dict[str, tuple[int, dict[str, VerificationKey]]] = {}
        for issuer in config.issuers:
            if issuer.jwks is not None:
                self._static[issuer.iss] = self._strict(issuer.jwks, f"issuer {issuer.iss!r}")
            elif issuer.jwks_file is not None:
                self._file_keys(issuer.jwks_file, startup=True)

    def key_for(self, issuer: IssuerConfig, kid: str, jku: str | None = None) -> VerificationKey:
        """The key for ``kid``; AuthError unknown_kid / jku_not_allowed, or SecurityUnavailable."""
        if jku is not None:
            if jku not in issuer.allowed_jku:
                raise AuthError("jku_not_allowed")
            pinned = self._configured_keys(issuer)
            if pinned is not None and kid in pinned:
                return pinned[kid]  # the configured set holds it: no fetch
            return self._remote_key(jku, kid)
        if issuer.jwks_url is not None:
            return self._remote_key(issuer.jwks_url, kid)
        keys = self._configured_keys(issuer) or {}
        if kid not in keys:
            raise AuthError("unknown_kid")
        return keys[kid]

    def _configured_keys(self, issuer: IssuerConfig) -> dict[str, VerificationKey] | None:
        """The issuer's ``jwks`` or ``jwks_file`` keys; None for a ``jwks_url`` issuer."""
        if issuer.jwks_file is not None:
            return self._file_keys(issuer.jwks_file)
        return self._static.get(issuer.iss)

    # static keys -----------------------------------------------------------------------

    def _strict(self, jwks: Any, where: str) -> dict[str, VerificationKey]:
        keys, problems = parse_jwks(jwks, self._allowed)
        if problems or not keys:
            raise ValueError(f"{where}: bad JWKS: {'; '.join(problems) or 'no usable key'}")
        return keys

    def _file_keys(self, path: str, startup: bool = False) -> dict[str, VerificationKey]:
        """Keys of a JWKS file, re-read when its mtime changes (key rotation on disk)."""
        try:
            mtime = os.stat(path).st_mtime_ns
            cached = self._files.get(path)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            with open(path, encoding="utf-8") as handle:
                keys = self._strict(json.load(handle), f"jwks_file {path}")
        except (OSError, ValueError) as exc:
            if startup:
                raise ValueError(f"jwks_file {path}: {exc}") from None
            log.error("jwks_file %s unreadable (%s); keeping old keys", path, type(exc).__name__)
            cached = self._files.get(path)
            if cached is None:
                raise SecurityUnavailable("jwks_unavailable") from None
            return cached[1]
        self._files[path] = (mtime, keys)
        return keys

    # remote keys -----------------------------------------------------------------------

    def _remote_key(self, url: str, kid: str) -> VerificationKey:
        keys = self._keys_of(url, self._current(url))
        if kid in keys:
            return keys[kid]
        if self._store.claim_refresh(url, self._refresh_interval):
            log.info("jwks: unknown kid, refetching %s", url)
            try:
                entry = self._fetch_and_save(url)
            except JwksFetchError as exc:
                log.warning("jwks: refetch of %s failed: %s", url, exc)
            else:
                keys = self._keys_of(url, entry)
                if kid in keys:
                    return keys[kid]
        raise AuthError("unknown_kid")

    def _current(self, url: str) -> CachedJwks:
        entry = self._store.load(url)
        if entry is not None and self._clock() - entry.fetched_at < self._ttl:
            return entry
        with self._lock:
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        with url_lock:  # one fetch per URL per process at a time
            now = self._clock()
            entry = self._store.load(url)
            if entry is not None and now - entry.fetched_at < self._ttl:
                return entry
            if now >= self._failed_until.get(url, 0.0):
                try:
                    return self._fetch_and_save(url)
                except JwksFetchError as exc:
                    log.warning("jwks: fetch of %s failed: %s", url, exc)
                    self._failed_until[url] = now + self._backoff
            if entry is not None and now - entry.fetched_at < self._max_stale:
                return entry
            raise SecurityUnavailable("jwks_unavailable")

    def _fetch_and_save(self, url: str) -> CachedJwks:
        entry = CachedJwks(self._clock(), self._fetch(url))
        self._store.save(url, entry, self._max_stale)
        self._failed_until.pop(url, None)
        return entry

    def _keys_of(self, url: str, entry: CachedJwks) -> dict[str, VerificationKey]:
        """Parsed keys of a cached entry, memoised by content (parsed once per version)."""
        marker = (url, entry.digest)
        with self._lock:
            keys = self._parsed.get(marker)
            if keys is not None:
                self._parsed.move_to_end(marker)
                return keys
        keys, problems = parse_jwks(entry.jwks, self._allowed)
        if problems:
            log.warning("jwks from %s: %s", url, "; ".join(problems))
        with self._lock:
            self._parsed[marker] = keys
            while len(self._parsed) > 64:
                self._parsed.popitem(last=False)
        return keys
