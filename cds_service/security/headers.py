"""Response security headers and CORS (CDS Hooks 2.0 §Security: browser clients such as
the sandbox need CORS). Pure functions over plain values, wired by the app's hooks.
"""

from __future__ import annotations

from .config import CorsConfig
from .urls import normalize_origin

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type")

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool) -> dict[str, str]:
    """Headers for every response; HSTS only when the request came over https (RFC 6797 §7.2)."""
    headers = dict(_SECURITY_HEADERS)
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    """A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method."""
    return method.upper() == "OPTIONS" and bool(origin) and bool(request_method)


def _allowed_origin(config: CorsConfig, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or None if not allowed."""
    if not origin or not config.allowed_origins:
        return None
    if config.wildcard:
        return "*"
    canonical = normalize_origin(origin)
    return origin if canonical is not None and canonical in config.allowed_origins else None


def cors_headers(
    config: CorsConfig,
    origin: str | None,
    method: str,
    request_method: str | None = None,
) -> dict[str, str]:
    """CORS headers for a response to ``method`` from ``origin``.

    For a preflight (see ``is_preflight``) the full answer: allowed methods, headers and
    max-age, or no Allow-* header at all when the origin or the requested method is not
    allowed (the browser then blocks the call). No credentials mode: the token travels in
    the Authorization header, never in cookies.
    """
    if not config.allowed_origins:
        return {}
    headers = {} if config.wildcard else {"Vary": "Origin"}
    allow = _allowed_origin(config, origin)
    if allow is None:
        return headers
    if is_preflight(method, origin, request_method):
        if (request_method or "").upper() not in ALLOWED_METHODS:
            return headers
        headers.update(
            {
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                "Access-Control-Max-Age": str(config.max_age_seconds),
            }
        )
    headers["Access-Control-Allow-Origin"] = allow
    return headers
