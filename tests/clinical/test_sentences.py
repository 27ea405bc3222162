"""Sentence boundaries (ConText never reaches across one, cards quote whole sentences)."""

from __future__ import annotations

import pytest

from cds_service.clinical.text_reader import default_reader
from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import ABSENT, PRESENT, state_of

READER = default_reader()


def sentences(text: str) -> list[str]:
    READER.warm()
    doc = READER.nlp(text)
    return [" ".join(s.text.split()) for s in doc.sents if s.text.strip()]


@pytest.mark.parametrize(("text", "expected"), [
    ("No fracture. Edema present.", ["No fracture.", "Edema present."]),
    ("No fracture.Edema present.", ["No fracture.", "Edema present."]),
    ("Approx. 2 cm focus, see fig. 3. Pt. has pain.",
     ["Approx. 2 cm focus, see fig. 3.", "Pt. has pain."]),
    # a heading is a sentence of its own (the sectionizer finds it first)
    ("HISTORY: hip pain ?AVN. FINDINGS: normal.",
     ["HISTORY:", "hip pain ?AVN.", "FINDINGS:", "normal."]),
    ("IMPRESSION:\n1. Diffuse edema.\n2. No AVN.",
     ["IMPRESSION:", "1.", "Diffuse edema.", "2.", "No AVN."]),
    ("No evidence of\navascular necrosis.", ["No evidence of avascular necrosis."]),
    ("MRI LEFT HIP\n\nFINDINGS:\nEdema of the\nleft femoral head.",
     ["MRI LEFT HIP", "FINDINGS:", "Edema of the left femoral head."]),
])
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_negation_holds_across_a_wrapped_line() -> None:
    reading = READER.read("There is no evidence of\navascular necrosis.")
    assert [state_of(m) for m in reading.of(tr.AVN)] == [ABSENT]


def test_negation_stops_at_a_glued_sentence_end() -> None:
    reading = READER.read("No fracture.Bone marrow edema of the left femoral head.")
    assert [state_of(m) for m in reading.of(tr.BME)] == [PRESENT]


def test_a_run_on_sentence_is_cut_after_a_comma_within_the_limit() -> None:
    from cds_service.clinical.sentences import MAX_SENTENCE_TOKENS

    text = "Edema " + "and edema, " * 200 + "end."
    doc_sentences = sentences(text)
    assert len(doc_sentences) > 1
    READER.warm()
    lengths = [len(s) for s in READER.nlp(text).sents]
    assert max(lengths) <= MAX_SENTENCE_TOKENS
    assert all(s.endswith(",") for s in doc_sentences[:-1])


def test_a_run_on_without_commas_is_cut_at_the_limit() -> None:
    from cds_service.clinical.sentences import MAX_SENTENCE_TOKENS

    READER.warm()
    doc = READER.nlp("edema " * 1000)
    assert max(len(s) for s in doc.sents) <= MAX_SENTENCE_TOKENS
