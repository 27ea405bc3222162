"""Every card for every fixture, from every service, has the shape a surgeon reads in
seconds (issue 14): a summary under 140 characters, at most 5 bullets and 120 words, no
bullet twice, no FHIR id in the prose, one date format, and as its source the service
that issued it with a link to the rules page it serves."""

from __future__ import annotations

import re

import pytest

from cds_service.devtools import fixture_data
from tests.clock import TODAY  # fixtures are rebased to the app's fixed clock

from tests.test_hooks_fixtures import CASES, SERVICES  # the same cases as the hook tests
MAX_BULLETS, MAX_WORDS, SUMMARY_LIMIT = 5, 120, 140
# A FHIR reference: a resource type (CamelCase, or one the service reads) and an id.
TYPES = ("Patient", "Observation", "Condition", "Procedure", "Medication", "Encounter",
         "Practitioner", "Specimen", "Media", "Device", "Task", "Organization")
FHIR_ID = re.compile(r"\b(?:[A-Z][a-z]+(?:[A-Z][a-z]+)+|" + "|".join(TYPES)
                     + r")/[A-Za-z0-9\-.]{1,64}")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
QUOTE = re.compile(r'\*"[^"]*"\*')


def shape_problems(card: dict) -> list[str]:
    """Every way this card breaks the shape rules (empty: none)."""
    problems = []
    summary, detail = card["summary"], card.get("detail") or ""
    if len(summary) >= SUMMARY_LIMIT:
        problems.append(f"summary of {len(summary)} characters")
    lines = [line for line in detail.splitlines() if line.strip()]
    bullets = [line for line in lines if BULLET.match(line)]
    if len(bullets) > MAX_BULLETS:
        problems.append(f"{len(bullets)} bullets")
    if len(lines) != len(bullets):
        problems.append("text outside the bullets")
    if len(detail.split()) > MAX_WORDS:
        problems.append(f"{len(detail.split())} words")
    if len({BULLET.sub('', b).strip().lower() for b in bullets}) != len(bullets):
        problems.append("a bullet repeated")
    problems += [f"FHIR id {m} in the detail" for m in FHIR_ID.findall(detail)]
    own_words = QUOTE.sub("", detail) + " " + summary  # a quote is the report's own text
    problems += [f"ISO date {m} (one format: 12 Oct 2026)" for m in ISO_DATE.findall(own_words)]
    return problems


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ({"summary": "x" * 140, "detail": "- a\n"}, "summary of 140"),
        ({"summary": "s", "detail": "".join(f"- b{i}\n" for i in range(6))}, "6 bullets"),
        ({"summary": "s", "detail": "- " + "word " * 121}, "words"),
        ({"summary": "s", "detail": "- same\n- Same\n"}, "repeated"),
        ({"summary": "s", "detail": "- see DiagnosticReport/rep-1\n"}, "FHIR id"),
        ({"summary": "s", "detail": "- CRP (Observation/crp)\n"}, "FHIR id"),
        ({"summary": "s", "detail": "- MRI on 2026-10-12\n"}, "ISO date"),
        ({"summary": "s", "detail": "**Heading**\n\n- a\n"}, "outside the bullets"),
    ],
)
def test_the_shape_check_catches_each_problem(card: dict, problem: str) -> None:
    assert any(problem in p for p in shape_problems(card)), shape_problems(card)


def test_the_shape_check_passes_a_good_card() -> None:
    good = {"summary": "Left hip edema without AVN signs: likely transient osteoporosis",
            "detail": '- **MRI 12 Oct 2026, left hip:** *"Edema, T1/STIR (2026-10-01)."*\n'
                      "- **Labs:** CRP 3 mg/L (lab limit 5), WBC 7 10^9/L (lab limit 11)\n"}
    assert shape_problems(good) == []


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_every_fixture_card_has_the_shape(client, app, name: str, hook: str) -> None:  # type: ignore[no-untyped-def]
    service = SERVICES[hook]
    response = client.post(f"/cds-services/{service}",
                           json=fixture_data.fixture_request(name, hook, today=TODAY))
    assert response.status_code == 200, response.get_data(as_text=True)
    catalog = app.extensions["cds_pipeline"].catalog
    base = app.config["CDS_SETTINGS"].service.public_base_url
    for card in response.get_json()["cards"]:
        assert shape_problems(card) == [], (name, hook, card["summary"], card["detail"])
        source = card["source"]
        assert source["label"] == catalog.services[service].title
        assert source["url"] == f"{base}/rules#{source['topic']['code']}"
        page = client.get(source["url"].removeprefix(base).split("#")[0])
        assert page.status_code == 200 and f'id="{source["topic"]["code"]}"' in page.get_data(
            as_text=True)
