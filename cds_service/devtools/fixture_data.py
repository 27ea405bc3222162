"""Test fixtures: patient bundles, their manifest, and the hook requests an EHR would send.

Pure (no HTTP), so unit tests, integration tests and the CLI share one source of cases.
Requests are rebased to the day asked for (`fixture_dates`) and carry the prefetch a FHIR
server would answer from the bundle (`local_fhir`).
"""

from __future__ import annotations

import copy
import json
import os
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from cds_service.devtools.fixture_dates import rebase_dates
from cds_service.devtools.local_fhir import (
    LOCAL_BASE,
    draft_orders,
    local_search,
    render_template,
    resources,
)
from cds_service.resources import hooks_dir
from cds_service.services.definitions import ServiceDefinition, load_catalog


def fixtures_dir() -> Path:
    """`CDS_FIXTURES_DIR` when set, else `fixtures/` beside the package folder: the root
    of the source checkout the package is imported from. Fixtures are not package data
    (a wheel holds none); these tools are for a checkout."""
    configured = os.environ.get("CDS_FIXTURES_DIR")
    if configured:
        return Path(configured)
    package = Path(str(files("cds_service")))
    return package.parent / "fixtures"


FIXTURES_DIR = fixtures_dir()
HOOKS = ("order-select", "order-sign", "patient-view")


@dataclass(frozen=True)
class Expectation:
    """What one service should answer for one fixture (topic None: no card)."""

    topic: str | None
    indicator: str | None = None
    key_phrases: tuple[str, ...] = ()  # case-insensitive substrings of the card detail
    evidence: tuple[str, ...] = ()  # `Type/id` the card must cite (a subset of its evidence)


@dataclass(frozen=True)
class FixtureCase:
    """One manifest entry: a patient bundle and what each hook should produce."""

    name: str
    file: Path
    index_date: date
    patient_id: str
    order: str | None  # "ServiceRequest/<id>" of the draft decompression order
    encounter_id: str | None
    user_id: str
    description: str
    expect: Mapping[str, Expectation]


def load_manifest(path: Path | None = None) -> dict[str, FixtureCase]:
    """fixtures/manifest.toml as FixtureCases by name (paths resolved against its folder)."""
    path = path or FIXTURES_DIR / "manifest.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases: dict[str, FixtureCase] = {}
    for name, entry in data["patients"].items():
        expect = {
            hook: Expectation(
                topic=None if exp["topic"] == "none" else exp["topic"],
                indicator=exp.get("indicator"),
                key_phrases=tuple(exp.get("key_phrases", ())),
                evidence=tuple(exp.get("evidence", ())),
            )
            for hook, exp in entry["expect"].items()
        }
        cases[name] = FixtureCase(
            name=name, file=path.parent / entry["file"], index_date=entry["index_date"],
            patient_id=entry["patient_id"], order=entry.get("order"),
            encounter_id=entry.get("encounter_id"), user_id=entry["user_id"],
            description=entry.get("description", ""), expect=expect,
        )
    return cases


def load_bundle(name: str, fixtures_dir: Path | None = None) -> dict[str, Any]:
    """The transaction Bundle of one fixture patient, as raw JSON."""
    path = (fixtures_dir or FIXTURES_DIR) / "patients" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def fixture_names() -> list[str]:
    """The manifest's patient names, in manifest order."""
    return list(load_manifest())


def index_date_of(bundle: Mapping[str, Any]) -> date | None:
    """A fixture bundle's index date, found by its Patient id; None for other bundles."""
    ids = {r.get("id") for r in resources(bundle) if r.get("resourceType") == "Patient"}
    return next((c.index_date for c in load_manifest().values() if c.patient_id in ids), None)


def load_fixture(name_or_path: str) -> tuple[dict[str, Any], date | None]:
    """A bundle and its index date, by manifest name or by the path of a bundle file."""
    cases = load_manifest()
    if name_or_path in cases:
        return load_bundle(name_or_path), cases[name_or_path].index_date
    bundle = json.loads(Path(name_or_path).read_text(encoding="utf-8"))
    return bundle, index_date_of(bundle)


def service_for_hook(hook: str) -> ServiceDefinition:
    """The one service in hooks/ that answers this hook."""
    found = [s for s in load_catalog(hooks_dir()).services.values() if s.hook == hook]
    if len(found) != 1:
        raise LookupError(f"expected one service for {hook}, found {[s.id for s in found]}")
    return found[0]


def _ref_of(resource: Mapping[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def build_hook_request(
    bundle: Mapping[str, Any],
    hook: str,
    service: ServiceDefinition | str,
    today: date,
    fhir_server: str | None = None,
    with_prefetch: bool = True,
    *,
    index_date: date | None = None,
    selections: Sequence[str] | None = None,
    hook_instance: str | None = None,
) -> dict[str, Any]:
    """The JSON an EHR would POST for this patient and hook.

    With `index_date`, the bundle is first rebased so its index date falls on `today`.
    order-select `selections` default to every draft order (an order set being chosen).
    Prefetch is each of the service's templates answered locally from the bundle."""
    definition = service if isinstance(service, ServiceDefinition) else (
        load_catalog(hooks_dir()).services[service])
    if definition.hook != hook:
        raise ValueError(f"service {definition.id} answers {definition.hook}, not {hook}")
    if index_date is not None:
        bundle = rebase_dates(bundle, index_date, today)
    stored = resources(bundle)
    patient = next((r for r in stored if r["resourceType"] == "Patient"), None)
    if patient is None:
        raise ValueError("the bundle has no Patient")
    drafts = draft_orders(bundle)
    order = next((d for d in drafts if d["resourceType"] == "ServiceRequest"), None)
    requester = ((order or {}).get("requester") or {}).get("reference")
    practitioner = next((r for r in stored if r["resourceType"] == "Practitioner"), None)
    user = requester or (_ref_of(practitioner) if practitioner else "Practitioner/example")
    context: dict[str, Any] = {"userId": user, "patientId": patient["id"]}
    encounter = ((order or {}).get("encounter") or {}).get("reference")
    if encounter is None:
        visits = [r for r in stored if r["resourceType"] == "Encounter"]
        visits.sort(key=lambda r: (r.get("period") or {}).get("start", ""))
        encounter = _ref_of(visits[-1]) if visits else None
    if encounter:
        context["encounterId"] = encounter.split("/", 1)[1]
    if hook in ("order-select", "order-sign"):
        if hook == "order-select":
            context["selections"] = list(selections) if selections is not None else [
                _ref_of(d) for d in drafts]
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": copy.deepcopy(d)} for d in drafts]}
    request: dict[str, Any] = {"hook": hook, "hookInstance": hook_instance or str(uuid.uuid4())}
    if fhir_server:
        request["fhirServer"] = fhir_server
    request["context"] = context
    if with_prefetch and definition.prefetch:
        prefetch: dict[str, Any] = {}
        for key, template in definition.prefetch.items():
            query = render_template(template, context)
            if query is not None:
                prefetch[key] = local_search(bundle, query, fhir_server or LOCAL_BASE)
        request["prefetch"] = prefetch
    return request


def fixture_request(
    name: str, hook: str, today: date | None = None, *, with_prefetch: bool = True,
    fhir_server: str | None = None, hook_instance: str | None = None,
) -> dict[str, Any]:
    """The hook request for a manifest patient, rebased to `today` (default: its index
    date), order-select naming only the manifest's decompression order."""
    case = load_manifest()[name]
    today = today or case.index_date
    return build_hook_request(
        load_bundle(name), hook, service_for_hook(hook), today, fhir_server, with_prefetch,
        index_date=case.index_date, hook_instance=hook_instance,
        selections=[case.order] if hook == "order-select" and case.order else None,
    )


def with_run_suffix(bundle: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """The bundle with `-<suffix>` on every resource id and every reference to them, so
    runs on a shared public sandbox neither collide nor see each other's data."""
    own = {(r["resourceType"], r["id"]) for r in resources(bundle) if r.get("id")}

    def renamed(ref: str) -> str:
        rtype, _, rid = ref.partition("/")
        return f"{rtype}/{rid}-{suffix}" if (rtype, rid) in own else ref

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v, k) for k, v in node.items()}
            if isinstance(out.get("resourceType"), str) and (out["resourceType"], node.get("id")) in own:
                out["id"] = f"{node['id']}-{suffix}"
            return out
        if isinstance(node, list):
            return [walk(item, key) for item in node]
        if isinstance(node, str) and key in ("reference", "url"):
            return renamed(node)
        return node

    return walk(copy.deepcopy(dict(bundle)), None)
