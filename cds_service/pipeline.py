"""One hook call, end to end: decode, check, fill prefetch, decide, record, encode.

I/O lives at the two ends (FHIR fetch, store); the middle is the pure service logic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine

from cds_service.caching import Caches
from cds_service.clinical.text_reader import TextReader
from cds_service.config import Settings
from cds_service.errors import (
    BadRequest,
    Forbidden,
    Issue,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
)
from cds_service.fhir.caches import cached_record
from cds_service.fhir.client import FhirClient
from cds_service.fhir.record import ResourceTooDeep, preload_models
from cds_service.limits import (
    ComputeSlots,
    Slot,
    check_deadline,
    check_resource_caps,
    nesting_exceeds,
)
from cds_service.prefetch.fetch import resolve_prefetch
from cds_service.prefetch.resolve import check_prefetch_shape
from cds_service.security import url_allowed
from cds_service.services.definitions import Catalog, ServiceDefinition
from cds_service.services.logic import Invocation, IssuedCard, ServiceLogic
from cds_service.services.triggers import triggered_orders
from cds_service.store.records import record_issued
from cds_service.wire.cards import CardsResponse
from cds_service.wire.request import CONTEXT_MODELS, HookRequest

log = logging.getLogger(__name__)


def validation_issues(exc: ValidationError, prefix: str = "") -> list[Issue]:
    """One OperationOutcome issue per pydantic error, located by a dotted path."""
    issues = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        issues.append(Issue("invalid" if err["type"] != "missing" else "required",
                            f"{where or '(body)'}: {err['msg']}", where or None))
    return issues


def prefetched_types(catalog: Catalog) -> set[str]:
    """Resource types the catalog's prefetch templates ask for (`Type?...`, `Type/...`),
    plus Medication (referenced by medication requests and statements)."""
    types = {"Medication"}
    for service in catalog.services.values():
        for template in service.prefetch.values():
            name = template.split("?", 1)[0].split("/", 1)[0].strip()
            if name[:1].isupper() and name.isalpha():
                types.add(name)
    return types


@dataclass
class HookOutcome:
    """What the route needs to answer and to log."""

    body: dict[str, Any]
    hook: str
    cards: list[IssuedCard]
    fhir_seconds: float = 0.0


class Pipeline:
    """Runs the services of one catalog. One instance per worker process; `caches` and
    `reader` are the worker's (built in create_app; the logics hold them too)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        logics: Mapping[str, ServiceLogic],
        client: FhirClient,
        executor: Executor,
        engine: Engine,
        clock: Callable[[], datetime],
        caches: Caches,
        reader: TextReader,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.logics = logics
        self.client = client
        self.executor = executor
        self.engine = engine
        self.clock = clock
        self.caches = caches
        self.reader = reader
        # Warm start: FHIR model classes are imported when the worker builds the app,
        # not by the first request that sends each resource type.
        preload_models(prefetched_types(catalog))
        self.slots = ComputeSlots(settings.service.concurrent_hook_calls)

    def service(self, service_id: str) -> ServiceDefinition:
        service = self.catalog.services.get(service_id)
        if service is None:
            raise NotFound(f"no CDS service with id {service_id!r}")
        return service

    def decode(self, service: ServiceDefinition, body: Any) -> tuple[HookRequest, dict[str, Any]]:
        """Validate the envelope and the hook's context (400 with every problem listed).

        Before any model sees it: the envelope's nesting (400 past max_json_depth: model
        validation and serialisation recurse per level) and the size of every prefetch
        Bundle and of all of them (413 past max_bundle_entries / max_resources). Prefetched
        resources are checked for nesting one by one, when parsed (`build_record`)."""
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        limits = self.settings.service
        envelope = {k: v for k, v in body.items() if k != "prefetch"}
        if nesting_exceeds(envelope, limits.max_json_depth):
            raise BadRequest(f"the request nests deeper than {limits.max_json_depth} levels "
                             "([service] max_json_depth)",
                             [Issue("too-costly", "JSON nested deeper than "
                                    f"{limits.max_json_depth} levels ([service] max_json_depth)")])
        try:
            request = HookRequest.model_validate(body)
        except ValidationError as exc:
            raise BadRequest("invalid hook request", validation_issues(exc)) from exc
        if request.hook != service.hook:
            message = f"hook {request.hook!r} does not match service {service.id!r} ({service.hook})"
            raise BadRequest(message, [Issue("invalid", message, "hook")])
        check_prefetch_shape(request.prefetch)
        check_resource_caps(request.prefetch or {}, limits.max_bundle_entries,
                            limits.max_resources, PayloadTooLarge)
        draft = request.context.get("draftOrders")
        check_resource_caps({"draftOrders": draft}, limits.max_draft_orders,
                            limits.max_draft_orders, PayloadTooLarge, where="context",
                            settings=("max_draft_orders", "max_draft_orders"))
        try:
            context = CONTEXT_MODELS[service.hook].model_validate(request.context)
        except ValidationError as exc:
            raise BadRequest("invalid context", validation_issues(exc, "context")) from exc
        return request, context.model_dump(mode="json", exclude_none=True)

    def check_fhir_server(self, request: HookRequest, allowed: tuple[str, ...]) -> None:
        """Refuse a fhirServer that is not on the allowlist, before any connection."""
        if request.fhirServer is None:
            return
        if not url_allowed(request.fhirServer, allowed):
            raise Forbidden(
                "fhirServer is not on this service's allowlist",
                [Issue("forbidden", f"fhirServer {request.fhirServer} is not allowed", "fhirServer")],
            )
        if self.settings.service.profile == "production" and not request.fhirServer.startswith("https://"):
            raise Forbidden("fhirServer must use https in production",
                            [Issue("forbidden", "fhirServer must use https", "fhirServer")])

    def invoke(
        self, service_id: str, body: Any, allowed_servers: tuple[str, ...] | None = None,
        slot: Slot | None = None,
    ) -> HookOutcome:
        """One hook call. `slot`: the compute slot the route holds, given back while the
        FHIR server is waited for. The request deadline (limits.deadline_scope) is checked
        between stages and while the record is built."""
        service = self.service(service_id)
        request, context = self.decode(service, body)
        if allowed_servers is None:
            allowed_servers = self.settings.fhir.allowed_servers
        self.check_fhir_server(request, allowed_servers)
        orders = []
        if service.triggers:
            trigger_list = self.catalog.triggers[service.triggers]
            orders = triggered_orders(service.hook, context, trigger_list)
            if not orders:
                return HookOutcome(CardsResponse().to_json(), service.hook, [])

        check_deadline("before fetching")
        with slot.released() if slot is not None else nullcontext():
            prefetch = resolve_prefetch(
                service, request, self.client, self.executor, self.settings.fhir.budget_seconds,
                self.settings.fhir.page_size,
            )
        fatal = {k: why for k, why in prefetch.failures.items() if k not in service.optional_prefetch}
        if fatal:
            raise PreconditionFailed(
                "data the decision needs could not be obtained: " + ", ".join(sorted(fatal)),
                [Issue("incomplete", f"prefetch {key}: {why}", f"prefetch.{key}")
                 for key, why in sorted(fatal.items())],
            )
        limits = self.settings.service
        if prefetch.fetched:  # the client's part was checked in decode: the rest is FHIR data
            check_resource_caps(prefetch.payloads, limits.max_bundle_entries,
                                limits.max_resources, PreconditionFailed)
        logic = self.logics[service.handler]
        check_deadline("before reading the record")
        try:
            record = cached_record(
                (p for p in prefetch.payloads.values() if p is not None), keep=logic.keep,
                cache=self.caches.records, models=self.caches.models,
                max_depth=limits.max_json_depth,
            )
        except ResourceTooDeep as exc:
            raise BadRequest(str(exc), [Issue("too-costly", str(exc))]) from None
        check_deadline("before deciding")
        now = self.clock()
        invocation = Invocation(service.id, service.hook, context, orders, now)
        issued = self.caches.decisions.decide(logic, invocation, record)
        record_issued(self.engine, service.id, service.hook, request.hookInstance, issued, now)
        body_out = CardsResponse(cards=[item.card for item in issued]).to_json()
        return HookOutcome(body_out, service.hook, issued, prefetch.fhir_seconds)
