"""The reader's tokenizer splits text exactly as medspaCy's does, without the whitespace
special cases that stopped spaCy caching a report's words after its first line."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import pytest
from medspacy.custom_tokenizer import create_medspacy_tokenizer

from cds_service.clinical import text_reader

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "reading_corpus.jsonl"
SEEDS = sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))
FIXTURES = sorted((ROOT / "fixtures").rglob("*.json"))
EDGES = [
    "FINDINGS:\nNo effusion.\n\nIMPRESSION:\tNormal.",
    "Hip\xa0MRI:  no  edema .\r\n- Left: normal\n \n",
    "\n", " ", "\t", "\xa0", "a\n\nb", "cannot be excluded.\nNo AVN.",
]


def _strings(node) -> list[str]:
    """Report text in a fixture: conclusions, notes and base64 attachments."""
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if not isinstance(node, dict):
        return []
    found = [node[k] for k in ("conclusion", "text") if isinstance(node.get(k), str)]
    if isinstance(node.get("data"), str):
        try:
            found.append(base64.b64decode(node["data"], validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError):
            pass
    return found + [s for value in node.values() for s in _strings(value)]


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts += [p.read_text(encoding="utf-8") for p in SEEDS]
    for path in FIXTURES:
        texts += _strings(json.loads(path.read_text(encoding="utf-8")))
    return texts + EDGES


def _tokens(tokenizer, text: str) -> list[tuple]:
    return [(t.text, t.whitespace_, t.norm_, t.lower_, t.is_space, t.is_punct, t.like_num,
             t.shape_) for t in tokenizer(text)]


@pytest.fixture(scope="module")
def tokenizers():
    nlp = text_reader.default_reader().nlp
    return nlp.tokenizer, create_medspacy_tokenizer(nlp)


def test_line_break_tab_and_space_special_cases_dropped(tokenizers) -> None:
    ours, stock = tokenizers
    assert {"\n", "\t", " "} <= set(stock.rules), "medspaCy's tokenizer has them"
    assert not {"\n", "\t", " "} & set(ours.rules)
    assert "\xa0" in ours.rules  # it sets NORM: kept


def test_same_tokens_as_medspacy(tokenizers) -> None:
    ours, stock = tokenizers
    texts = _texts()
    assert len(texts) > 600
    for text in texts:
        assert _tokens(ours, text) == _tokens(stock, text), text[:80]
