"""Per-request security: CORS preflight, JWT authentication, response headers.

CDS Hooks 2.0 §Trusting CDS Clients: POSTs to a service (invoke and feedback) carry
the EHR's JWT, with `aud` the service's endpoint URL. Discovery, health and the OpenAPI
description hold no patient data and stay open, as the CDS Hooks sandbox expects.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request

from cds_service.config import Settings
from cds_service.errors import CdsError, Issue, Unauthorized
from cds_service.security import (
    Authenticator,
    AuthError,
    SecurityUnavailable,
    cors_headers,
    fhir_server_allowed,
    is_preflight,
    security_headers,
)

log = logging.getLogger("cds_service.security")


class ServiceUnavailable(CdsError):
    status, issue_code = 503, "transient"


def init_app(app: Flask, settings: Settings, authenticator: Authenticator) -> None:
    app.extensions["cds_authenticator"] = authenticator
    app.before_request(_preflight_and_auth)
    app.after_request(_headers)


def _settings() -> Settings:
    return current_app.config["CDS_SETTINGS"]


def _preflight_and_auth() -> Response | None:
    settings = _settings()
    origin = request.headers.get("Origin")
    wanted = request.headers.get("Access-Control-Request-Method")
    if is_preflight(request.method, origin, wanted):
        return Response(status=204)
    if request.method != "POST" or not request.path.startswith("/cds-services/"):
        return None
    header = request.headers.get("Authorization")
    if header is None and not settings.auth.required:
        g.allowed_fhir_servers = settings.fhir.allowed_servers
        return None
    base = settings.service.public_base_url
    service_path = request.path.removesuffix("/feedback")
    audience = sorted({base + service_path, base + request.path})
    try:
        principal = current_app.extensions["cds_authenticator"].verify(header, audience)
    except AuthError as exc:
        log.warning("auth_refused", extra={"check": exc.check, "path": _route()})
        raise Unauthorized("unauthorized", [Issue("login", "authentication failed")]) from None
    except SecurityUnavailable as exc:
        log.error("auth_unavailable", extra={"check": exc.check, "path": _route()})
        raise ServiceUnavailable("authentication temporarily unavailable") from None
    g.principal = principal
    # Both lists must allow a fhirServer: the deployment's and the token issuer's.
    g.allowed_fhir_servers = tuple(
        s for s in settings.fhir.allowed_servers if fhir_server_allowed(principal, s)
    )
    return None


def _route() -> str:
    """The matched route's rule ("/cds-services/<service_id>"), never the raw path: the
    path is the client's text (any bytes up to gunicorn's 4 KB request line)."""
    return request.url_rule.rule if request.url_rule is not None else "(unmatched)"


def _headers(response: Response) -> Response:
    settings = _settings()
    for name, value in security_headers(request.is_secure).items():
        response.headers.setdefault(name, value)
    origin = request.headers.get("Origin")
    for name, value in cors_headers(
        settings.cors, origin, request.method, request.headers.get("Access-Control-Request-Method")
    ).items():
        response.headers[name] = value
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response
