"""URL and origin normalisation shared by config validation, CORS and the FHIR allowlist."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parts(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of an absolute http(s) URL without userinfo, else None."""
    if not isinstance(url, str) or url != url.strip() or any(c.isspace() for c in url):
        return None
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return None
    scheme = split.scheme.lower()
    host = (split.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or "@" in split.netloc:
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme], split.path


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def normalize_url(url: str) -> str | None:
    """Canonical ``scheme://host:port/path`` (explicit port, no trailing slash), or None.

    URLs with userinfo, a query or a fragment are refused (None): a FHIR base URL has none.
    """
    parts = _parts(url)
    if parts is None:
        return None
    split = urlsplit(url)
    if split.query or split.fragment or url.endswith(("?", "#")):
        return None
    scheme, host, port, path = parts
    return f"{scheme}://{_host_text(host)}:{port}{path.rstrip('/')}"


def url_allowed(url: str, allowlist: list[str] | tuple[str, ...]) -> bool:
    """True when ``url`` normalises to the same base as one allowlist entry."""
    target = normalize_url(url)
    if target is None:
        return False
    return any(normalize_url(entry) == target for entry in allowlist)


def same_base(url: str, base: str) -> bool:
    """True when ``url`` lies under ``base``: same scheme, host and port (a port left out
    is the scheme's default, as for ``url_allowed``) and a path under base's path.

    The FHIR client follows a `next` link or a redirect only when this holds."""
    target, root = _parts(url), _parts(base)
    if target is None or root is None:
        return False
    return target[:3] == root[:3] and (
        (target[3].rstrip("/") + "/").startswith(root[3].rstrip("/") + "/"))


def normalize_origin(origin: str) -> str | None:
    """Serialized origin as browsers send it (RFC 6454): scheme://host[:non-default-port]."""
    parts = _parts(origin)
    if parts is None:
        return None
    split = urlsplit(origin)
    if split.path or split.query or split.fragment or origin.endswith(("?", "#")):
        return None
    scheme, host, port, _ = parts
    suffix = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{_host_text(host)}{suffix}"


def is_secure_fetch_url(url: str) -> bool:
    """https, or http to a loopback host (local testing): the rule for jwks_url and jku."""
    parts = _parts(url)
    if parts is None or urlsplit(url).fragment:
        return False
    scheme, host, _, _ = parts
    return scheme == "https" or is_loopback_host(host)
