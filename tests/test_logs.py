"""JSON log lines carry their filled message (gunicorn's address, a fetch's reason), and
a refused request's line names the service it addressed."""

from __future__ import annotations

import json
import logging
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from cds_service.logs import MAX_MESSAGE_CHARS, JsonFormatter
from tests.conftest import make_settings
from tests.reliability.live import running

SIGN = "/cds-services/toh-core-decompression-sign"


def formatted(msg: str, *args: object, **extra: object) -> dict:
    record = logging.LogRecord("cds_service.security", logging.WARNING, __file__, 1, msg,
                               args or None, None)
    record.__dict__.update(extra)
    return json.loads(JsonFormatter().format(record))


def test_message_carries_the_arguments_and_event_the_template() -> None:
    entry = formatted("jwks: fetch of %s failed: %s", "https://ehr.example/jwks",
                      "HTTP 503 from https://ehr.example/jwks", kid="k1")
    assert entry["message"] == ("jwks: fetch of https://ehr.example/jwks failed: "
                                "HTTP 503 from https://ehr.example/jwks")
    assert entry["event"] == "jwks: fetch of %s failed: %s"
    assert entry["kid"] == "k1" and entry["level"] == "WARNING"


def test_a_message_without_arguments_is_itself() -> None:
    entry = formatted("auth_refused", check="expired")
    assert entry["message"] == entry["event"] == "auth_refused"


def test_arguments_that_do_not_fit_do_not_lose_the_line() -> None:
    entry = formatted("two %s %s", "only-one")
    assert entry["message"].startswith("two %s %s") and entry["event"] == "two %s %s"


def test_fields_outside_the_safe_list_and_exception_text_stay_out() -> None:
    try:
        raise ValueError("Jane Doe 1970-01-01")
    except ValueError:
        record = logging.LogRecord("cds_service", logging.ERROR, __file__, 1, "unhandled_error",
                                   None, __import__("sys").exc_info())
    record.__dict__["patient_name"] = "Jane Doe"
    line = JsonFormatter().format(record)
    assert "Jane" not in line and json.loads(line)["exception"] == "ValueError"


def test_a_long_message_is_cut() -> None:
    entry = formatted("%s", "x" * (MAX_MESSAGE_CHARS + 50))
    assert len(entry["message"]) == MAX_MESSAGE_CHARS + 3


def request_lines(err: str) -> list[dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "request"]


def test_refused_request_logs_the_service_id(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from cds_service.app import create_app

    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    jwk = {**ECAlgorithm.to_jwk(key, as_dict=True), "kid": "k1"}
    issuer = {"iss": "https://ehr.example.org", "jwks": {"keys": [jwk]}}
    settings = make_settings(tmp_path, auth={"required": True, "issuers": [issuer]})
    client = create_app(settings).test_client()
    assert client.post(SIGN, json={}).status_code == 401
    assert client.post("/cds-services/Jane-Doe-1970", json={}).status_code == 401
    first, unknown = request_lines(capsys.readouterr().err)[-2:]
    assert (first["service"], first["status"]) == ("toh-core-decompression-sign", 401)
    assert first["path"] == "/cds-services/<service_id>"
    assert unknown["service"] is None  # not a service of ours: the client's string stays out
    assert "Jane" not in json.dumps(unknown)


@pytest.mark.integration
def test_gunicorn_lines_carry_address_and_pid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"}}
    with running(tmp_path / "service", config, workers=1) as service:
        pass
    messages = [e.get("message", "") for e in service.log_entries()
                if e["logger"] == "gunicorn.error"]
    assert f"Listening at: http://127.0.0.1:{service.port} (" in " | ".join(messages)
    assert any(re.fullmatch(r"Booting worker with pid: \d+", m) for m in messages), messages
    assert not [m for m in messages if "%s" in m], messages
