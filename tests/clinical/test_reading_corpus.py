"""The reading corpus (tests/clinical/reading_corpus.jsonl): radiologist-style sentences
written apart from the vocabulary, each annotated with its findings. Every concept is
held at >= 97% precision and recall (bench/reading.py prints the table and every
sentence read wrong)."""

from __future__ import annotations

import pytest

from bench.reading import CORPUS, load, reader, score

FLOOR = 0.97
ENTRIES = load(CORPUS)
CONCEPTS = sorted({f["concept"] for e in ENTRIES for f in e["findings"]})


@pytest.fixture(scope="module")
def result():
    return score(ENTRIES, reader())


def test_the_corpus_is_large_and_covers_every_class() -> None:
    assert len(ENTRIES) >= 400
    classes = {e["class"] for e in ENTRIES}
    assert {"headings", "word_forms", "signal", "avn_described", "hedges", "infection",
            "sides_sites", "seeds"} <= classes
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("concept", CONCEPTS)
def test_each_concept_is_read_at_the_floor(result, concept: str) -> None:
    wrong = [w for w in result.wrong
             if any(f["concept"] == concept for f in w[2] + w[3])]
    assert result.precision(concept) >= FLOOR, wrong[:5]
    assert result.recall(concept) >= FLOOR, wrong[:5]


def test_the_scorer_can_fail() -> None:
    """A reader that finds nothing scores zero recall; one that invents scores low."""
    entries = ENTRIES[:50]
    blind = score(entries, lambda text: [])
    assert any(blind.recall(c) == 0 for c in CONCEPTS if blind.false_neg[c])
    inventive = score(entries, lambda text: [{"concept": "AVN", "status": "present",
                                             "joint": None, "side": None}])
    assert inventive.precision("AVN") < FLOOR
