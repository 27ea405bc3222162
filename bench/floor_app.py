"""The floor: a bare Flask endpoint on the service's stack (Flask, orjson, gunicorn gthread).

It receives the same hook request body, parses it as JSON and answers a fixed card: the
best this stack can do on this machine. bench.py runs it under the same gunicorn settings
as `cds-service serve` (2 gthread workers, same timeouts and keep-alive).
"""

from __future__ import annotations

import uuid

import orjson
from flask import Flask, Response, request

app = Flask(__name__)

CARD = {
    "cards": [{
        "uuid": str(uuid.uuid4()),
        "summary": "Hip MRI fits transient osteoporosis of the hip: consider conservative care "
                   "before core decompression",
        "indicator": "warning",
        "detail": "Fixed card from the benchmark floor.",
        "source": {"label": "benchmark floor"},
    }],
    "systemActions": [],
}
BODY = orjson.dumps(CARD)


@app.post("/cds-services/<service_id>")
def invoke(service_id: str) -> Response:
    body = orjson.loads(request.get_data(cache=False))
    if not isinstance(body, dict) or "hookInstance" not in body:
        return Response(b'{"error":"bad request"}', status=400, mimetype="application/json")
    return Response(BODY, status=200, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status":"ok"}', mimetype="application/json")
