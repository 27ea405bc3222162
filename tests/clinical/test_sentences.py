"""Sentence boundaries (ConText never reaches across one, cards quote whole sentences)."""

from __future__ import annotations

import pytest

from cds_service.clinical import text_reader
from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import ABSENT, PRESENT, state_of


def sentences(text: str) -> list[str]:
    text_reader.warm()
    doc = text_reader._nlp(text)  # noqa: SLF001 (the reader's own pipeline)
    return [" ".join(s.text.split()) for s in doc.sents if s.text.strip()]


@pytest.mark.parametrize(("text", "expected"), [
    ("No fracture. Edema present.", ["No fracture.", "Edema present."]),
    ("No fracture.Edema present.", ["No fracture.", "Edema present."]),
    ("Approx. 2 cm focus, see fig. 3. Pt. has pain.",
     ["Approx. 2 cm focus, see fig. 3.", "Pt. has pain."]),
    ("HISTORY: hip pain ?AVN. FINDINGS: normal.", ["HISTORY: hip pain ?AVN.", "FINDINGS: normal."]),
    ("IMPRESSION:\n1. Diffuse edema.\n2. No AVN.",
     ["IMPRESSION:", "1.", "Diffuse edema.", "2.", "No AVN."]),
    ("No evidence of\navascular necrosis.", ["No evidence of avascular necrosis."]),
    ("MRI LEFT HIP\n\nFINDINGS:\nEdema of the\nleft femoral head.",
     ["MRI LEFT HIP", "FINDINGS:", "Edema of the left femoral head."]),
])
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_negation_holds_across_a_wrapped_line() -> None:
    reading = text_reader.read("There is no evidence of\navascular necrosis.")
    assert [state_of(m) for m in reading.of(tr.AVN)] == [ABSENT]


def test_negation_stops_at_a_glued_sentence_end() -> None:
    reading = text_reader.read("No fracture.Bone marrow edema of the left femoral head.")
    assert [state_of(m) for m in reading.of(tr.BME)] == [PRESENT]
