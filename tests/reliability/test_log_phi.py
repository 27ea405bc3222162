"""No PHI and no secrets in the logs (issue 4 §8). Every fixture patient through every
hook, with prefetch and without (the service then reads the real test FHIR server with
the fhirAuthorization token), each call with its own signed JWT, plus refused calls;
then the service's whole stderr (at DEBUG) is searched for patient names, birth dates,
report text, JWTs and access tokens. Every line must be JSON; request lines carry the id."""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import requests

from cds_service.devtools import fixture_data as fx
from cds_service.devtools.loader import load_bundles
from tests.integration.conftest import FhirServer, start_fhir_server
from tests.reliability.conftest import REDIS_URL
from tests.reliability.live import LiveService, running
from tests.reliability.tokens import FORGERIES, Keys, signed

pytestmark = pytest.mark.integration
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
WINDOW = 20  # report text: no run of this many characters may appear in the log


@dataclass
class Phi:
    names: set[str] = field(default_factory=set)
    births: set[str] = field(default_factory=set)
    report_windows: set[str] = field(default_factory=set)

    def add(self, resource: dict) -> None:
        if resource.get("resourceType") == "Patient":
            for name in resource.get("name", ()):
                self.names.update([*name.get("given", ()), *[name["family"]] * ("family" in name)])
            self.births.add(resource["birthDate"])
        if resource.get("resourceType") == "DiagnosticReport":
            texts = [resource.get("conclusion", "")] + [
                base64.b64decode(f["data"]).decode() for f in resource.get("presentedForm", ())]
            for text in texts:
                starts = range(len(text) - WINDOW + 1)
                self.report_windows.update(text[i:i + WINDOW] for i in starts)

    def found_in(self, log: str) -> list[str]:
        names = [n for n in self.names if re.search(rf"\b{re.escape(n)}\b", log)]
        return sorted(names + [b for b in self.births if b in log]
                      + [w for w in self.report_windows if w in log])


@dataclass
class Run:
    """What was sent: request bodies, bearer tokens, request ids, statuses."""

    bodies: list[dict] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def post(self, service: LiveService, path: str, body: dict, token: str | None) -> int:
        self.request_ids.append(uuid.uuid4().hex)
        headers = {"X-Request-Id": self.request_ids[-1]}
        if token:
            headers["Authorization"] = f"Bearer {token}"
            self.tokens.append(token)
        self.bodies.append(body)
        return requests.post(service.url(path), json=body, headers=headers, timeout=60).status_code


@pytest.fixture(scope="module")
def fhir(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The test FHIR server holding every fixture patient, dates moved to today."""
    today = datetime.now(UTC).date()
    bundles = [fx.rebase_dates(fx.load_bundle(name), case.index_date, today)
               for name, case in fx.load_manifest().items()]
    with start_fhir_server(tmp_path_factory.mktemp("fhir")) as server:
        load_bundles(server.base_url, bundles, server.token)
        yield server, bundles


def run_everything(service: LiveService, server: FhirServer, keys: Keys) -> Run:
    run, failed = Run(), []
    authorization = {"access_token": server.token, "token_type": "Bearer", "expires_in": 300,
                     "scope": "patient/*.read", "subject": "cds-service"}
    today = datetime.now(UTC).date()
    for name in fx.load_manifest():
        for hook in fx.HOOKS:
            path = f"/cds-services/{fx.service_for_hook(hook).id}"
            for prefetch in (True, False):
                body = fx.fixture_request(name, hook, today, with_prefetch=prefetch,
                                          fhir_server=server.base_url)
                body["fhirAuthorization"] = authorization
                token = signed(keys.es384 if prefetch else keys.rs384, service.aud(path))
                if run.post(service, path, body, token) != 200:
                    failed.append((name, hook, prefetch))
    assert failed == []
    # refused calls carry secrets too: forged tokens, a fhirServer off the list
    path = f"/cds-services/{fx.service_for_hook('order-sign').id}"
    sign = next(body for body in run.bodies if body["hook"] == "order-sign")
    for make, _ in FORGERIES.values():
        assert run.post(service, path, sign, make(keys, service.aud(path))) == 401
    off_list = {**sign, "fhirServer": "https://fhir.elsewhere.example/r4"}
    assert run.post(service, path, off_list, signed(keys.es384, service.aud(path))) == 403
    return run


def test_full_run_leaves_no_phi_or_secrets_in_the_log(tmp_path, fhir, keys: Keys,
                                                      redis_prefix: str) -> None:
    server, bundles = fhir
    config = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"},
              "log": {"level": "DEBUG"},
              # the FHIR budget is a hard deadline: generous here, where the logs are
              # tested, not speed, and the test FHIR server may share a loaded machine
              "fhir": {"allowed_servers": [server.base_url], "budget_seconds": 20},
              "auth": {"required": True, "issuers": [keys.issuer([server.base_url])]},
              "cache": {"url": REDIS_URL, "key_prefix": redis_prefix + "phi:"}}
    with running(tmp_path / "service", config) as service:
        run = run_everything(service, server, keys)
    log = service.log()  # complete: the service has stopped

    phi = Phi()
    for bundle in bundles + [fx.load_bundle(name) for name in fx.load_manifest()]:
        for resource in fx.resources(bundle):
            phi.add(resource)
    for body in run.bodies:
        for value in (body.get("prefetch") or {}).values():
            phi.add(value or {})
    assert len(phi.names) >= 10 and len(phi.births) >= 10 and len(phi.report_windows) > 1000
    assert phi.found_in(log) == []
    assert server.token not in log
    assert [t for t in run.tokens if t in log or t.split(".")[1] in log] == []
    assert JWT.search(log) is None

    entries = []
    for number, line in enumerate(log.splitlines(), 1):
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"log line {number} is not JSON: {line[:200]}")
    requests_logged = {e.get("request_id") for e in entries if e.get("event") == "request"}
    assert set(run.request_ids) <= requests_logged
    ours = [e for e in entries if e["logger"].startswith("cds_service.")
            and e["logger"] != "cds_service.serve"]  # serve: start-up, before any request
    assert ours and [e for e in ours if not e.get("request_id")] == []
