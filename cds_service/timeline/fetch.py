"""Fetch one patient's data for the timeline with the hook services' own queries.

Why the same queries: the page must show what the cards were built from. The templates
come from hooks/services/*.toml (every service's, each query once), rendered for the
patient and sent to the app's FHIR server with the app's access token, in parallel and
within the same time budget and paging limits as a hook call's prefetch.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from cds_service.fhir.client import FhirClient
from cds_service.fhir.errors import FhirAccessDenied, FhirError, FhirNotFound
from cds_service.prefetch.fetch import with_page_size
from cds_service.prefetch.templates import render
from cds_service.services.definitions import Catalog

log = logging.getLogger(__name__)
GRACE_SECONDS = 0.5  # past the budget, how long to wait for the threads to report


def is_read(template: str) -> bool:
    """`Type/id` (a read, which may find nothing) rather than a search."""
    return "/" in template.partition("?")[0].strip("/")


@dataclass
class PatientData:
    """Payload per query key (None: a read that found nothing) and why keys failed."""

    payloads: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    denied: bool = False  # the FHIR server refused the token (401/403)


def queries(catalog: Catalog) -> tuple[dict[str, str], set[str]]:
    """Every service's prefetch templates, each template once (by its first key), and the
    keys every service that asks for them may do without (optional_prefetch)."""
    templates: dict[str, str] = {}
    seen: dict[str, str] = {}
    required: set[str] = set()
    for service in catalog.services.values():
        for key, template in service.prefetch.items():
            name = seen.setdefault(template, key)
            templates.setdefault(name, template)
            if key not in service.optional_prefetch:
                required.add(name)
    return templates, set(templates) - required


def fetch_patient(catalog: Catalog, client: FhirClient, executor: Executor, base: str,
                  patient_id: str, token: str, budget_seconds: float,
                  page_size: int | None) -> tuple[PatientData, set[str]]:
    """All the patient's data the services read; (data, optional keys)."""
    templates, optional = queries(catalog)
    context = {"patientId": patient_id}
    deadline = time.monotonic() + budget_seconds
    data = PatientData()
    futures: dict[str, Future[dict[str, Any]]] = {}
    for key, template in templates.items():
        query = with_page_size(render(template, context), page_size)
        futures[key] = executor.submit(client.get, base, query, token, deadline)
    wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + GRACE_SECONDS)
    for key, future in futures.items():
        if not future.done():
            future.cancel()
            data.failures[key] = "time budget for FHIR calls exhausted"
            continue
        try:
            data.payloads[key] = future.result()
        except FhirNotFound as exc:
            if is_read(templates[key]):
                data.payloads[key] = None
            else:
                data.failures[key] = f"{exc}: the FHIR server did not answer the search"
        except FhirAccessDenied as exc:
            data.failures[key] = str(exc)
            data.denied = True
        except FhirError as exc:
            data.failures[key] = str(exc)
        if key in data.failures:
            log.warning("timeline_fetch_failed", extra={"key": key})
    return data, optional
