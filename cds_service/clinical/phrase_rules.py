"""Compile medspaCy token-pattern rules into exact phrases for spaCy's PhraseMatcher.

Why: spaCy's Matcher tries every pattern at every token and evaluates each `{"IN": [...]}`
set in Python, so the ~240 target and ConText rules cost ~7 of the ~10 ms it took to read
the three reports of a typical order (bench/PROFILE.md). A rule whose pattern is a
fixed sequence of words, once its `IN` sets and optional (`"OP": "?"`) tokens are
spelled out, is the same rule as a list of phrases, and the PhraseMatcher finds phrases
with one trie walk over the text whatever their number. The compiled rules match exactly
the spans the patterns matched: a phrase becomes a literal only if the tokenizer splits
it into the pattern's tokens, else a plain token pattern (no Python predicate); any other
rule (regex, other attributes or operators) stays as it was.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar


class _SpelledRule(Protocol):
    """What this module reads and sets on a medspaCy rule (TargetRule, ConTextRule)."""

    literal: str
    pattern: Any


Rule = TypeVar("Rule", bound=_SpelledRule)  # a medspacy BaseRule (TargetRule or ConTextRule)
Tokenize = Callable[[str], Sequence[str]]  # text -> lower-cased token texts

_WORD_ATTRS = frozenset({"LOWER", "ORTH"})
_MAX_PHRASES = 512  # one rule spelled out beyond this stays a pattern


def phrases(pattern: Any) -> list[tuple[str, ...]] | None:
    """Every word sequence `pattern` matches (none, for a pattern that can never match),
    or None if it is not a fixed-word pattern."""
    if not isinstance(pattern, list) or not pattern:
        return None
    choices: list[list[str | None]] = []
    for token in pattern:
        words = _token_words(token)
        if words is None:
            return None
        op = token.get("OP")
        if op not in (None, "?"):
            return None
        options: list[str | None] = list(words)
        if op == "?":
            options.append(None)  # the optional token left out
        choices.append(options)
    total = 1
    for options in choices:
        total *= len(options)
    if total > _MAX_PHRASES:
        return None
    spelled = {tuple(w for w in combo if w is not None) for combo in itertools.product(*choices)}
    return sorted(p for p in spelled if p)


def _token_words(token: Any) -> list[str] | None:
    if not isinstance(token, dict):
        return None
    attrs = [k for k in token if k != "OP"]
    if len(attrs) != 1 or attrs[0] not in _WORD_ATTRS:
        return None
    value = token[attrs[0]]
    if isinstance(value, str):
        values = [value]
    elif isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
        values = value["IN"]
    else:
        return None
    if not values or not all(isinstance(v, str) and v for v in values):
        return None
    # A word with a space in it never matches a token: it is dropped (a pattern left
    # with no word for a required token matches nothing, and compiles to no rule).
    values = [v for v in values if not any(ch.isspace() for ch in v)]
    if attrs[0] == "ORTH" and any(v.lower() != v.upper() for v in values):
        return None  # case-sensitive words: matching them lower-cased would widen the rule
    return sorted({v.lower() for v in values})


def compile_rules(rules: Iterable[Rule], tokenize: Tokenize) -> list[Rule]:
    """The same rules, each fixed-word pattern spelled out as one rule per phrase.

    A phrase the tokenizer splits as the pattern does becomes a literal (PhraseMatcher)
    rule; one it splits otherwise ("n't" alone, say) stays a plain token pattern, which the
    Matcher checks without Python predicates. A phrase several rules claim goes to the
    last of them: rule lists put their own phrasings after the library's defaults, so "no
    longer present" reads as resolved, not as the default's negation. (Uncompiled,
    medspaCy breaks such ties by matcher order, which let a default win for some spans.)
    """
    rules = list(rules)
    claimed = [_claimed_phrases(rule, tokenize) for rule in rules]
    owner = {phrase: i for i, spelled in enumerate(claimed) for phrase in spelled or ()}
    compiled: list[Rule] = []
    for i, (rule, spelled) in enumerate(zip(rules, claimed)):
        if spelled is None:
            compiled.append(rule)
            continue
        for phrase in spelled:
            if owner[phrase] == i:
                compiled.append(_phrase_rule(rule, phrase, tokenize))
    return compiled


def _claimed_phrases(rule: Any, tokenize: Tokenize) -> list[tuple[str, ...]] | None:
    """The phrases a rule matches, or None to keep the rule as it is."""
    pattern = getattr(rule, "pattern", None)
    if pattern is None:  # a literal: medspaCy matches it as the tokenizer splits it
        return [tuple(tokenize(rule.literal.lower()))]
    return phrases(pattern)


def _phrase_rule(rule: Rule, phrase: tuple[str, ...], tokenize: Tokenize) -> Rule:
    if getattr(rule, "pattern", None) is None:
        return rule
    one = copy.copy(rule)
    one.literal = " ".join(phrase)
    one.pattern = [{"LOWER": word} for word in phrase]
    for spelling in _spellings(phrase):
        if tuple(tokenize(spelling)) == phrase:
            one.literal, one.pattern = spelling, None
            break
    return one


_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")


def _spellings(phrase: tuple[str, ...]) -> list[str]:
    """Ways to write a phrase for the tokenizer: words apart, then clitics attached
    ("could n't" is only split so when written "couldn't")."""
    attached = [phrase[0]]
    for word in phrase[1:]:
        if word in _CLITICS:
            attached[-1] += word
        else:
            attached.append(word)
    return [" ".join(phrase), " ".join(attached)]
