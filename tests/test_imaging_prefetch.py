"""Every imaging study and report is fetched, not only MR (issue 12): a radiograph's or a
bone scan's report must keep its study, and a PET or bone scan is evidence too."""

from __future__ import annotations

import pytest

from cds_service.resources import hooks_dir
from cds_service.services.definitions import load_catalog
from cds_service.services.handlers import HANDLERS

SERVICES = load_catalog(hooks_dir(), known_handlers=set(HANDLERS)).services


@pytest.mark.parametrize("service_id", sorted(SERVICES))
def test_imaging_queries_take_every_modality(service_id: str) -> None:
    prefetch = SERVICES[service_id].prefetch
    studies = [q for q in prefetch.values() if q.startswith("ImagingStudy?")]
    reports = [q for q in prefetch.values() if q.startswith("DiagnosticReport?")]
    assert studies and reports
    for query in studies + reports:
        assert "modality=" not in query and "category=" not in query and "code=" not in query
