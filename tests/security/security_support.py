"""Helpers for the security tests (imported by name; conftest holds only fixtures):
keys made at test time, a token factory, a settable clock and a real local JWKS server."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/hip-core-decompression"
REDIS_URL = os.environ.get("CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class Signer:
    """A private key with its kid, algorithm and public JWK."""

    def __init__(self, private_key, kid: str, alg: str) -> None:
        self.private_key, self.kid, self.alg = private_key, kid, alg
        codec = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
        self.jwk = {**codec.to_jwk(private_key.public_key(), as_dict=True), "kid": kid}

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, claims: dict | None = None, headers: dict | None = None, drop=(),
              now: float | None = None) -> str:
        """A signed token with valid defaults, issued at ``now`` (the wall clock when None);
        ``claims``/``headers`` override, ``drop`` removes."""
        now = int(time.time() if now is None else now)
        body = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex,
                "sub": "client-1"}
        body.update(claims or {})
        for name in drop:
            body.pop(name, None)
        head = {"kid": self.kid, "typ": "JWT", **(headers or {})}
        if head["kid"] is None:
            del head["kid"]  # (typ=None makes PyJWT drop typ itself)
        return jwt.encode(body, self.private_key, algorithm=self.alg, headers=head)


def bearer(token: str) -> str:
    return f"Bearer {token}"


class FakeClock:
    """A settable clock for cache and throttle timing."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving configurable routes and counting GETs."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                status, body, headers = server.routes.get(self.path, (404, b"{}", {}))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def serve_jwks(self, path: str, *jwks: dict) -> str:
        self.routes[path] = (200, json.dumps({"keys": list(jwks)}).encode(), {})
        return self.base + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
