"""ConText's token patterns run only where their first word is: the same matches."""

from __future__ import annotations

import json
from pathlib import Path

from cds_service.clinical import text_reader
from cds_service.clinical.targeted_context import FirstWordGate, _first_words

CORPUS = Path(__file__).parent / "reading_corpus.jsonl"
CONTRACTIONS = [
    "The femoral head doesn't appear flattened.", "Marrow edema isn't significant.",
    "AVN hasn't been ruled out.", "We don't see a crescent. No effusion.",
    "DOESN'T APPEAR ABNORMAL", "It does n't reveal edema.", "Normal hip.",
]


def _gate() -> FirstWordGate:
    context = text_reader.default_reader().nlp.get_pipe("medspacy_context")
    gate = context._ConText__matcher._MedspacyMatcher__matcher  # medspaCy's private matcher
    assert isinstance(gate, FirstWordGate)
    return gate


def test_first_words_of_patterns() -> None:
    assert _first_words([[{"LOWER": "n't"}, {"LOWER": "see"}], [{"ORTH": "No"}]]) == {"n't", "no"}
    assert _first_words([[{"LOWER": {"IN": ["a", "B"]}}]]) == {"a", "b"}
    assert _first_words([[{"LOWER": "n't", "OP": "?"}, {"LOWER": "x"}]]) is None  # optional
    assert _first_words([[{"POS": "VERB"}]]) is None  # another attribute
    assert _first_words([[{"LOWER": {"REGEX": "^n"}}]]) is None


def test_gate_gives_the_matcher_s_own_matches() -> None:
    gate = _gate()
    assert gate.first is not None  # the gate is shut for a text without the words
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    hits = 0
    for text in texts + CONTRACTIONS:
        doc = text_reader.default_reader().nlp.make_doc(text)
        assert gate(doc) == gate.matcher(doc), text
        hits += bool(gate.matcher(doc))
    assert hits >= 3  # texts the token patterns do match were compared


def test_contracted_negation_still_read() -> None:
    reading = text_reader.default_reader().read("The femoral head doesn't appear flattened or collapsed.")
    assert reading.mentions and all(m.negated for m in reading.mentions)
