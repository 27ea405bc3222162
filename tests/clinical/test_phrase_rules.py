"""Rules compiled to phrases match what their token patterns matched."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from pathlib import Path

import pytest
from medspacy.context import ConTextRule

from cds_service.clinical import text_reader
from cds_service.clinical.text_reader import build_pipeline, default_reader
from cds_service.clinical import text_rules as tr
from cds_service.clinical import vocabulary
from cds_service.clinical.phrase_rules import compile_rules, phrases

ROOT = Path(__file__).resolve().parents[2]

READER = default_reader()


def split_words(text: str) -> list[str]:
    return text.lower().split()


@pytest.mark.parametrize(("pattern", "expected"), [
    ([{"LOWER": "no"}, {"LOWER": {"IN": ["sign", "signs"]}}, {"LOWER": "of"}],
     [("no", "sign", "of"), ("no", "signs", "of")]),
    ([{"LOWER": "no"}, {"LOWER": "new", "OP": "?"}], [("no",), ("no", "new")]),
    ([{"LOWER": "double"}, {"ORTH": "-", "OP": "?"}, {"LOWER": "line"}],
     [("double", "-", "line"), ("double", "line")]),
    ([{"LOWER": {"IN": ["AVN", "avn"]}}], [("avn",)]),
])
def test_fixed_word_patterns_are_spelled_out(pattern: list, expected: list) -> None:
    assert phrases(pattern) == expected


@pytest.mark.parametrize("pattern", [
    r"\bavn\b",  # a regex rule
    [{"LEMMA": "fracture"}],  # another attribute
    [{"LOWER": "no"}, {"IS_ALPHA": True, "OP": "*"}],  # open-ended
    [{"LOWER": "no"}, {"LOWER": "edema", "OP": "+"}],
    [{"ORTH": "AVN"}],  # case-sensitive on purpose
    [{"LOWER": {"REGEX": "^oe?dema$"}}],
    [],
])
def test_other_patterns_are_not_spelled_out(pattern: object) -> None:
    assert phrases(pattern) is None


def test_each_phrase_becomes_a_literal_rule_with_the_same_meaning() -> None:
    rule = ConTextRule("no sign of", "NEGATED_EXISTENCE", direction="FORWARD", max_scope=5,
                       pattern=[{"LOWER": "no"}, {"LOWER": {"IN": ["sign", "signs"]}},
                                {"LOWER": "of"}])
    compiled = compile_rules([rule], split_words)
    assert [(r.literal, r.pattern) for r in compiled] == [("no sign of", None),
                                                         ("no signs of", None)]
    assert {(r.category, r.direction, r.max_scope) for r in compiled} == {
        ("NEGATED_EXISTENCE", "FORWARD", 5)}
    assert rule.pattern is not None  # the original rule is left as it was


def test_a_phrase_the_tokenizer_splits_otherwise_stays_a_plain_pattern() -> None:
    def tokenize(text: str) -> list[str]:  # splits "can't" as spaCy does, "n't" alone too
        return text.replace("n't", " n ' t").split()

    rule = ConTextRule("cannot exclude", "POSSIBLE_EXISTENCE", direction="FORWARD",
                       pattern=[{"LOWER": "ca"}, {"LOWER": {"IN": ["not", "n't"]}},
                                {"LOWER": "exclude"}])
    compiled = compile_rules([rule], tokenize)
    assert [(r.literal, r.pattern) for r in compiled] == [
        ("ca n't exclude", [{"LOWER": "ca"}, {"LOWER": "n't"}, {"LOWER": "exclude"}]),
        ("ca not exclude", None)]


def test_a_clitic_is_written_attached_when_that_is_how_the_tokenizer_splits_it() -> None:
    def tokenize(text: str) -> list[str]:  # "couldn't" -> could n't; "n't" alone -> n 't
        out: list[str] = []
        for word in text.split():
            if word == "n't":
                out += ["n", "'t"]
            elif word.endswith("n't"):
                out += [word[:-3], "n't"]
            else:
                out.append(word)
        return out

    rule = ConTextRule("could not rule out", "POSSIBLE_EXISTENCE", direction="FORWARD",
                       pattern=[{"LOWER": "could"}, {"LOWER": {"IN": ["not", "n't"]}},
                                {"LOWER": "rule"}, {"LOWER": "out"}])
    compiled = compile_rules([rule], tokenize)
    assert [(r.literal, r.pattern) for r in compiled] == [
        ("couldn't rule out", None), ("could not rule out", None)]


def test_a_word_with_a_space_never_matches_and_is_dropped() -> None:
    dead = ConTextRule("risks of", "HYPOTHETICAL", pattern=[{"LOWER": {"IN": ["risk of"]}}])
    half = ConTextRule("risk", "HYPOTHETICAL", pattern=[{"LOWER": {"IN": ["risk", "risk of"]}}])
    assert compile_rules([dead], split_words) == []
    assert [r.literal for r in compile_rules([half], split_words)] == ["risk"]


def test_the_last_rule_claiming_a_phrase_wins() -> None:
    default = ConTextRule("no longer present", "NEGATED_EXISTENCE", direction="BACKWARD")
    ours = ConTextRule("no longer seen", "RESOLVED", direction="BIDIRECTIONAL",
                       pattern=[{"LOWER": "no"}, {"LOWER": "longer"},
                                {"LOWER": {"IN": ["seen", "present"]}}])
    compiled = compile_rules([default, ours], split_words)
    assert [(r.literal, r.category) for r in compiled] == [
        ("no longer present", "RESOLVED"), ("no longer seen", "RESOLVED")]


def test_rules_that_cannot_be_spelled_out_are_kept() -> None:
    regex = ConTextRule("r/o", "POSSIBLE_EXISTENCE", pattern=r"\br/o\b")
    assert compile_rules([regex], split_words) == [regex]


# The pipeline as the service builds it against the same rules left as token patterns.

def _texts_in(value: object, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "data" and isinstance(item, str):
                try:
                    out.add(base64.b64decode(item, validate=True).decode("utf-8"))
                except (binascii.Error, UnicodeDecodeError):
                    pass
            _texts_in(item, out)
    elif isinstance(value, list):
        for item in value:
            _texts_in(item, out)
    elif isinstance(value, str) and " " in value:
        out.add(value)


def _uncontested_phrases(rules: list) -> list[str]:
    """Phrases whose rules agree on what they mean (contested ones: see the test below).
    A phrase that is part of another rule's phrase counts as contested too: which of
    the two wins is the very thing compiling changes (the later rule, by design)."""
    tokenizer = _tokenizer()
    meanings: dict[tuple[str, ...], set] = defaultdict(set)
    for rule in rules:
        for phrase in phrases(rule.pattern) or [
                tuple(t.lower_ for t in tokenizer(rule.literal.lower()))]:
            meanings[phrase].add((rule.category, getattr(rule, "direction", None)))
    joined = {p: " " + " ".join(p) + " " for p in meanings}
    every = " | ".join(joined.values())
    words = {w for p in meanings for w in p}

    def contains_another(p: tuple[str, ...]) -> bool:
        inner = [p[i:j] for i in range(len(p)) for j in range(i + 1, len(p) + 1)
                 if (i, j) != (0, len(p)) and all(w in words for w in p[i:j])]
        return any(q in meanings for q in inner)

    return sorted(" ".join(p) for p, m in meanings.items()
                  if len(m) == 1 and every.count(joined[p]) == 1 and not contains_another(p))


def _tokenizer():
    import medspacy

    return medspacy.load(load_rules=False, medspacy_enable=["medspacy_tokenizer"]).tokenizer


def _corpus() -> list[str]:
    """Sentences built from every uncontested phrase. (Report texts hold contested
    phrases, read as the later rule says: tests/clinical/test_reading_corpus.py.)"""
    texts: set[str] = set()
    for phrase in _uncontested_phrases(tr.context_rules(vocabulary.load(text_reader.DEFAULT_VOCABULARY))):
        texts.add(f"Left hip: {phrase} bone marrow edema, crescent sign.")
        texts.add(f"Avascular necrosis {phrase} effusion.")
    for phrase in _uncontested_phrases(tr.target_rules(vocabulary.load(text_reader.DEFAULT_VOCABULARY))):
        texts.add(f"No {phrase} of the right femoral head. Possible {phrase}.")
    return sorted(texts)


def _readings(nlp, text: str) -> list:
    return READER.mentions_in(nlp(text))


def test_compiled_rules_read_every_text_as_the_patterns_do() -> None:
    compiled = build_pipeline(READER.vocabulary)
    patterns = build_pipeline(READER.vocabulary, compiled=False)
    corpus = _corpus()
    assert len(corpus) > 1000
    differing = [t for t in corpus if _readings(compiled, t) != _readings(patterns, t)]
    assert differing == []


@pytest.mark.parametrize(("text", "category"), [
    ("Bone marrow edema no longer present.", tr.RESOLVED),  # default: negation
    ("Evaluate for avascular necrosis.", "HYPOTHETICAL"),  # default: negation
    ("Could not rule out avascular necrosis.", "POSSIBLE_EXISTENCE"),  # default: backward
])
def test_contested_phrases_read_as_the_radiology_rule_says(text: str, category: str) -> None:
    compiled = build_pipeline(READER.vocabulary)
    [target] = compiled(text).ents
    assert {m.category for m in target._.modifiers} == {category}
