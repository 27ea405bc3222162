"""`cds-service invoke` and `cds-service fixtures load`: act as the EHR would.

invoke builds a hook request from a fixture patient, or from a FHIR server and a
patient id (draft orders read from the server, prefetch filled by rendering the
service's own templates against that server), sends it, and prints the cards.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson
import requests

from cds_service.fhir.client import ClientLimits, FhirClient, make_session
from cds_service.fhir.errors import FhirError
from cds_service.prefetch.templates import render
from cds_service.resources import hooks_dir
from cds_service.services.definitions import ServiceDefinition, load_catalog

FETCH_BUDGET_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 30.0


def utc_today() -> date:
    """Today as the service sees it (its clock is UTC)."""
    return datetime.now(UTC).date()


def _token(args: argparse.Namespace) -> str | None:
    return args.token or os.environ.get("CDS_FHIR_TOKEN") or None


def _service(service_id: str) -> ServiceDefinition:
    catalog = load_catalog(Path(os.environ.get("CDS_SERVICE__HOOKS_DIR") or hooks_dir()))
    if service_id not in catalog.services:
        raise SystemExit(f"cds-service: unknown service {service_id!r}; known: "
                         f"{', '.join(sorted(catalog.services))}")
    return catalog.services[service_id]


def request_from_server(
    service: ServiceDefinition, base: str, patient_id: str, token: str | None, with_prefetch: bool
) -> dict[str, Any]:
    """The request an EHR would send for this patient, data read from `base`."""
    client = FhirClient(make_session(4), ClientLimits(read_timeout=20))
    deadline = time.monotonic() + FETCH_BUDGET_SECONDS
    context: dict[str, Any] = {"userId": "Practitioner/cli-user", "patientId": patient_id}
    if service.hook != "patient-view":
        drafts = client.get(base, f"ServiceRequest?patient={patient_id}&status=draft", token, deadline)
        entries = [{"resource": e["resource"]} for e in drafts.get("entry") or [] if "resource" in e]
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        if service.hook == "order-select":
            context["selections"] = [
                f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries
                if e["resource"].get("id")
            ]
    body: dict[str, Any] = {
        "hook": service.hook,
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": base.rstrip("/"),
        "context": context,
    }
    if token:
        body["fhirAuthorization"] = {
            "access_token": token, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "cds-service-cli", "patient": patient_id,
        }
    if with_prefetch:
        body["prefetch"] = {
            key: client.get(base, render(template, context), token, deadline)
            for key, template in service.prefetch.items()
        }
    return body


def request_from_fixture(service: ServiceDefinition, name: str, fhir_server: str | None,
                         with_prefetch: bool) -> dict[str, Any]:
    """The request for a fixture patient, dates moved so that its index date is today."""
    from cds_service.devtools import fixture_data

    if name not in fixture_data.fixture_names() and not Path(name).is_file():
        raise SystemExit(f"cds-service: no fixture {name!r}: neither a patient of "
                         f"fixtures/manifest.toml ({', '.join(fixture_data.fixture_names())}) "
                         "nor a bundle file")
    today = utc_today()
    bundle, index_date = fixture_data.load_fixture(name)
    if index_date is not None:  # a bundle file of no manifest patient keeps its dates
        bundle = fixture_data.rebase_dates(bundle, index_date, today)
    return fixture_data.build_hook_request(
        bundle, service.hook, service, today=today, fhir_server=fhir_server,
        with_prefetch=with_prefetch,
    )


def format_cards(body: dict[str, Any]) -> str:
    """Cards as a clinician would scan them: indicator, summary, then the detail."""
    cards = body.get("cards") or []
    if not cards:
        return "No cards.\n"
    lines: list[str] = []
    for card in cards:
        topic = (card.get("source") or {}).get("topic", {}).get("code", "-")
        lines.append(f"[{card['indicator'].upper()}] {card['summary']}  ({topic})")
        if card.get("detail"):
            lines.extend("    " + line for line in card["detail"].splitlines())
        for suggestion in card.get("suggestions") or []:
            lines.append(f"  > suggestion: {suggestion['label']}")
            for action in suggestion.get("actions") or []:
                lines.append(f"      - {action['type']}: {action['description']}")
        for reason in card.get("overrideReasons") or []:
            lines.append(f"  x override reason: {reason['display']}")
        for link in card.get("links") or []:
            lines.append(f"  link: {link['label']} <{link['url']}>")
        lines.append("")
    return "\n".join(lines)


def run_invoke(args: argparse.Namespace, out: TextIO) -> int:
    service = _service(args.service)
    with_prefetch = not args.no_prefetch
    if args.patient:
        if not args.fhir_server:
            raise SystemExit("cds-service: --patient needs --fhir-server")
        try:
            body = request_from_server(service, args.fhir_server, args.patient, _token(args),
                                       with_prefetch)
        except FhirError as exc:
            raise SystemExit(f"cds-service: reading {args.fhir_server}: {exc}") from None
    else:
        body = request_from_fixture(service, args.fixture, args.fhir_server, with_prefetch)
        if args.fhir_server and _token(args):
            body["fhirAuthorization"] = {
                "access_token": _token(args), "token_type": "Bearer", "expires_in": 300,
                "scope": "patient/*.read", "subject": "cds-service-cli",
            }
    if args.print_request:
        out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    response = send(args.url, service.id, body)
    if args.json:
        out.write(json_only(response) + "\n")
    elif response.status_code != 200:
        out.write(f"HTTP {response.status_code}\n{response.text}\n")
    else:
        out.write(format_cards(response.json()))
    return 0 if response.status_code == 200 else 1


def send(url: str, service_id: str, body: dict[str, Any]) -> requests.Response:
    """POST the hook request; one line and exit 1 when nothing answers at ``url``."""
    try:
        return requests.post(
            f"{url.rstrip('/')}/cds-services/{service_id}", data=orjson.dumps(body),
            headers={"Content-Type": "application/json"}, timeout=SEND_TIMEOUT_SECONDS,
        )
    except requests.ConnectionError:
        raise SystemExit(f"cds-service: no service answers at {url}; start it with "
                         "./scripts/serve (or pass --url)") from None
    except requests.Timeout:
        raise SystemExit(f"cds-service: the service at {url} did not answer within "
                         f"{SEND_TIMEOUT_SECONDS:.0f} s") from None


def json_only(response: requests.Response) -> str:
    """The response body when it is JSON, else a JSON object saying what came back."""
    try:
        return orjson.dumps(response.json(), option=orjson.OPT_INDENT_2).decode()
    except ValueError:
        return orjson.dumps({"status": response.status_code,
                             "error": "the response is not JSON"}).decode()


def run_fixtures_load(args: argparse.Namespace, out: TextIO) -> int:
    from cds_service.devtools import fixture_data
    from cds_service.devtools.loader import load_bundles

    if args.paths:
        bundles = [orjson.loads(Path(p).read_bytes()) for p in args.paths]
        index_dates = [fixture_data.index_date_of(b) for b in bundles]
    else:
        loaded = [fixture_data.load_fixture(name) for name in fixture_data.fixture_names()]
        bundles, index_dates = [b for b, _ in loaded], [d for _, d in loaded]
    today = utc_today()
    rebased = [fixture_data.rebase_dates(b, d, today) if d else b
               for b, d in zip(bundles, index_dates, strict=True)]
    out.writelines(f"{patient_id}\n" for patient_id in
                   load_bundles(args.fhir_server, rebased, _token(args)))
    return 0
