"""A guarded alternation matches exactly what the plain one does, only faster."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from cds_service.clinical import anatomy
from cds_service.clinical.regex_dispatch import first_characters, guarded

CORPUS = Path(__file__).parent / "reading_corpus.jsonl"


def test_first_characters_of_literals_branches_and_optional_parts() -> None:
    assert first_characters(r"\bhips?\b") == {"h"}
    assert first_characters(r"(?:femoral\s+heads?|head\s+of|(?-i:FHs?)|onfh)") == set("fhFo")
    assert first_characters(r"(medial\s+|lateral\s+)?condyles?") == set("mlc")
    assert first_characters(r"[a-c]x|T1") == set("abcT")


def test_first_characters_unknown_when_anything_may_start() -> None:
    assert first_characters(r"\w+ing") is None  # a category
    assert first_characters(r"(?<=the\s)L(?!x)") == {"L"}  # lookarounds consume nothing
    assert first_characters(r"(a)?\1") is None  # a back-reference
    assert first_characters(r"(left)?") is None  # may match empty
    assert first_characters(r"[^a]b") is None  # a negated set
    assert guarded(r"\w+") == r"\w+"
    assert guarded(r"hips?") == r"(?=[h])hips?"


def _plain_sites() -> re.Pattern[str]:
    return re.compile(r"\b(?=\w)(?:" + "|".join(
        rf"(?P<s{i}>\b(?:{pat})\b)" for i, (_, _, pat) in enumerate(anatomy._SITE_PATTERNS)
    ) + ")", re.IGNORECASE)


def _found(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.lastgroup) for m in pattern.finditer(text)]


def test_site_words_found_as_without_the_guards() -> None:
    plain = _plain_sites()
    assert plain.pattern != anatomy._ANY_SITE.pattern  # the guards are in place
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(7)
    words = ["Hip", "FH", "fh", "femoral", "head", "of", "the", "left", "femur", "Ilium",
             "talus", "knee", "x", "-", "(", "trochanteric", "1", "MTP", "feet", "neck"]
    texts += [" ".join(rng.choice(words) for _ in range(30)) for _ in range(2000)]
    assert sum(bool(_found(plain, t)) for t in texts) > 500
    for text in texts:
        assert _found(anatomy._ANY_SITE, text) == _found(plain, text), text
