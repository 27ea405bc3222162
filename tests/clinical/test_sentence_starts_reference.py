"""The sentence splitter looks only at tokens that can start a sentence; this checks it
finds the same starts as its rules applied token by token (the first version, kept
here as the specification) on every text the reader is tested with and on random ones."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from cds_service.clinical import text_reader
from cds_service.clinical.sentences import (
    _ABBREVIATIONS,
    _FINAL,
    _ends_clause,
    _line_break,
    _starts_line_item,
    sentence_starts,
)

CORPUS = Path(__file__).parent / "reading_corpus.jsonl"
PIECES = [".", "?", "!", ":", ",", "\n", "\n\n", " \n", "  ", "Edema", "edema", "AVN", "1",
          "2.5", "-", "*", "approx", "Dr", "no", "Fig", "T1", "(", ")", "hip", "\t"]


def reference_starts(words: list[str], spaces: list[bool]) -> list[bool]:
    """The splitter's rules token by token, as first written: the specification."""
    starts: list[bool] = []
    last_word: str | None = None  # the last non-space token before the current one
    for i, text in enumerate(words):
        if i == 0:
            start = True
        else:
            prev = words[i - 1]
            if _line_break(text):
                # whitespace holding a line break: its own "sentence" when it ends a line
                start = _ends_clause(prev) or "\n\n" in text or prev.isspace()
            elif _line_break(prev):
                start = (starts[i - 1] or last_word is None or _ends_clause(last_word)
                         or _starts_line_item(text) or "\n\n" in prev)
            elif prev in _FINAL:
                before = words[i - 2] if i >= 2 else None
                abbreviation = (prev == "." and before is not None and not spaces[i - 2]
                                and before.lower() in _ABBREVIATIONS)
                if spaces[i - 1]:
                    start = not abbreviation
                else:  # "fracture.Edema" ends a sentence; "?AVN", "1.2" do not
                    start = (prev == "." and not abbreviation and text.istitle()
                             and before is not None and before.isalpha())
            else:
                start = False
        starts.append(start)
        if not text.isspace():
            last_word = text
    return starts


def _tokens(text: str) -> tuple[list[str], list[bool]]:
    doc = text_reader.default_reader().nlp.make_doc(text)
    return [t.text for t in doc], [bool(t.whitespace_) for t in doc]


@pytest.fixture(scope="module", autouse=True)
def _pipeline() -> None:
    text_reader.default_reader().warm()


def test_same_starts_on_the_corpus() -> None:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts.append("\n".join(texts[:200]))  # one long report of many lines
    for text in texts:
        words, spaces = _tokens(text)
        assert sentence_starts(words, spaces) == reference_starts(words, spaces), text[:80]


def test_same_starts_on_random_token_runs() -> None:
    rng = random.Random(20261202)
    for _ in range(3000):
        words = [rng.choice(PIECES) for _ in range(rng.randint(0, 40))]
        spaces = [rng.random() < 0.6 for _ in words]
        assert sentence_starts(words, spaces) == reference_starts(words, spaces), (words, spaces)
