"""Searches the service sends itself ask for a page size (`_count`); reads do not."""

from __future__ import annotations

import pytest

from cds_service.prefetch.fetch import with_page_size


@pytest.mark.parametrize(("query", "expected"), [
    ("Observation?patient=p&code=http://loinc.org|1988-5",
     "Observation?patient=p&code=http://loinc.org|1988-5&_count=200"),
    ("Procedure", "Procedure?_count=200"),
    ("Condition?patient=p&_count=5", "Condition?patient=p&_count=5"),  # the template's own
    ("Patient/p", "Patient/p"),  # a read
])
def test_page_size_added_to_searches(query: str, expected: str) -> None:
    assert with_page_size(query, 200) == expected


def test_no_page_size_leaves_query() -> None:
    assert with_page_size("Observation?patient=p", None) == "Observation?patient=p"
