"""TEST INFRASTRUCTURE ONLY: a minimal EHR for the SMART launch tests.

What it simulates, on one loopback HTTP server (a real werkzeug server in a thread):
- the EHR's FHIR endpoint `{base}/fhir`: a reverse proxy to the test FHIR server
  (tests/fhir_server), forwarding the bearer token it gets (the FHIR server checks it)
  and rewriting the upstream base in bodies so that paging links stay on this base;
  with CORS, as EHRs allow browser apps;
- `{base}/fhir/.well-known/smart-configuration` (SMART App Launch 2 discovery: EHR launch,
  public clients, S256 PKCE, v2 scopes);
- an authorization server built on Authlib's authorization-code grant and its RFC 7636
  PKCE extension (the maintained implementation verifies the code_verifier): `launch`
  ids registered by the test (the EHR launching the app for a patient, with a card's
  appContext), `aud` checked against the FHIR base, consent given at once (a clinician
  already signed in), and a token response with `patient`, `appContext`, `scope` and
  an RS256 `id_token` carrying `fhirUser`. The access token it issues is the test FHIR
  server's token, so that the FHIR server accepts it.
Not simulated: login pages, refresh tokens, token introspection, confidential clients.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length",
               "content-encoding", "server", "date"}


@dataclass
class Client:
    """One registered public client (the evidence timeline app)."""

    client_id: str
    redirect_uri: str
    scope: str = "launch launch/patient openid fhirUser patient/*.rs patient/*.read"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # a public client has none

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An issued authorization code and the launch context it carries."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    patient: str
    app_context: str | None
    user: str
    issued: float = field(default_factory=time.monotonic)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> None:
        return None


@dataclass
class EhrState:
    """What the test can set and see: launches, issued codes, token requests made."""

    fhir_token: str
    launches: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _code_grant(state: EhrState, launch_context: Callable[[Code], dict[str, Any]]
                ) -> type[grants.AuthorizationCodeGrant]:
    class SmartCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def create_token_response(self) -> tuple[int, dict[str, Any], list]:
            """Authlib's response (after its PKCE check), plus the SMART launch context."""
            code = self.request.authorization_code
            status, token, headers = super().create_token_response()
            token.update(launch_context(code))
            return status, token, headers

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            launch = state.launches[data["launch"]]
            with state.lock:
                state.codes[code] = Code(
                    code, req.client.get_client_id(), req.payload.redirect_uri,
                    req.payload.scope or "", data.get("code_challenge"),
                    data.get("code_challenge_method"), launch["patient"],
                    launch.get("app_context"), launch["user"])

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = state.codes.get(code)
            if found and found.client_id == client.get_client_id() and \
                    time.monotonic() - found.issued < 600:
                return found
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            with state.lock:
                state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.user

    return SmartCodeGrant


def make_ehr_app(state: EhrState, upstream: str, base: str, clients: dict[str, Client]) -> Flask:
    """The EHR's Flask app at `base`, its FHIR requests sent on to `upstream`; `clients`
    may be registered after it starts (the app's redirect URI is known only then)."""
    app = Flask("test-ehr")
    urls = {"base": base, "fhir": f"{base}/fhir"}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = AuthorizationServer(app, query_client=clients.get, save_token=lambda token, req: None)

    def bearer(grant_type: str, client: Client, user: str | None = None, scope: str | None = None,
               expires_in: int | None = None, include_refresh_token: bool = True) -> dict:
        return {"token_type": "Bearer", "access_token": state.fhir_token, "expires_in": 3600,
                "scope": scope}

    server.register_token_generator("default", bearer)
    def launch_context(code: Code) -> dict[str, Any]:
        now = int(time.time())
        extra: dict[str, Any] = {"patient": code.patient}
        if code.app_context is not None:
            extra["appContext"] = code.app_context
        if "openid" in code.scope.split():
            extra["id_token"] = jwt.encode(
                {"iss": urls["base"], "sub": code.user, "aud": code.client_id, "iat": now,
                 "exp": now + 300, "fhirUser": f"{urls['fhir']}/{code.user}"},
                key, algorithm="RS256", headers={"kid": "test-ehr"})
        return extra

    server.register_grant(_code_grant(state, launch_context), [CodeChallenge(required=True)])

    @app.after_request
    def cors(response: Response) -> Response:
        if request.path.startswith(("/fhir", "/auth/token", "/auth/jwks")):
            response.headers.update(CORS)
        return response

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> Response:
        base = urls["base"]
        return jsonify({
            "issuer": base, "jwks_uri": f"{base}/auth/jwks.json",
            "authorization_endpoint": f"{base}/auth/authorize",
            "token_endpoint": f"{base}/auth/token",
            "token_endpoint_auth_methods_supported": ["none"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["launch", "launch/patient", "openid", "fhirUser",
                                 "patient/*.rs", "patient/*.read"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": ["launch-ehr", "client-public", "context-ehr-patient",
                             "sso-openid-connect", "permission-v2", "permission-v1",
                             "permission-patient"],
        })

    @app.get("/auth/authorize")
    def authorize() -> Any:
        args = request.args
        launch = state.launches.get(args.get("launch", ""))
        if launch is None:
            return Response("unknown or missing launch", status=400)
        if args.get("aud", "").rstrip("/") != urls["fhir"]:
            return Response("aud is not this EHR's FHIR base", status=400)
        if args.get("code_challenge_method") != "S256":
            return Response("PKCE with S256 is required", status=400)
        grant = server.get_consent_grant(end_user=launch["user"])  # validates the request
        return server.create_authorization_response(grant_user=launch["user"], grant=grant)

    @app.post("/auth/token")
    def token() -> Any:
        with state.lock:
            state.token_requests.append(dict(request.form))
        return server.create_token_response()

    @app.get("/auth/jwks.json")
    def jwks() -> Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return jsonify({"keys": [{**public, "kid": "test-ehr", "alg": "RS256", "use": "sig"}]})

    @app.route("/fhir/<path:rest>", methods=["GET", "POST", "OPTIONS"])
    def fhir(rest: str) -> Response:
        if request.method == "OPTIONS":
            return Response(status=204)
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "accept", "content-type")}
        upstream_response = requests.request(
            request.method, f"{upstream}/{rest}", params=request.args, headers=headers,
            data=request.get_data(), timeout=30)
        body = upstream_response.content.replace(upstream.encode(), urls["fhir"].encode())
        kept = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_HEADERS}
        return Response(body, status=upstream_response.status_code, headers=kept)

    return app
