"""Faster big alternations: each alternative guarded by the letters it can start with.

Python's `re` tries every alternative of `a|b|c...` at every position it reaches; for
the site words (11 groups, ~60 spellings, case-insensitive) that was ~200 us for a
1,300-character report, read for every report. A lookahead of an alternative's
possible first characters (`(?=[fho])`) lets `re` skip it in one test: half the time.
The first characters are worked out from the parsed pattern (Python's own regex
parser), and an alternative whose start cannot be worked out gets no guard, so the
guarded pattern matches exactly what the plain one does (a test compares them).
"""

from __future__ import annotations

import re
import string
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}  # \b, lookarounds: consume nothing


def _firsts(items: list, flags: int) -> set[str] | None:
    """The characters a sequence of parsed items can start with, or None when unknown
    (or when the sequence can match the empty string)."""
    found: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op == sre.LITERAL:
            found.add(chr(av))
            return found
        if op == sre.IN:
            for kind, value in av:
                if kind == sre.LITERAL:
                    found.add(chr(value))
                elif kind == sre.RANGE and value[1] - value[0] < 128:
                    found.update(chr(c) for c in range(value[0], value[1] + 1))
                else:
                    return None  # a category or negation: anything may start it
            return found
        if op == sre.BRANCH:
            for branch in av[1]:
                firsts = _firsts(list(branch), flags)
                if firsts is None:
                    return None
                found |= firsts
            return found
        if op == sre.SUBPATTERN:
            firsts = _firsts(list(av[-1]), flags)
            if firsts is None:
                return None
            return found | firsts
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, _high, body = av
            firsts = _firsts(list(body), flags)
            if firsts is None:
                return None
            found |= firsts
            if low > 0:
                return found
            continue  # optional: what follows may start it too
        return None  # back-references, conditionals, ...: not worked out
    return None  # the whole sequence may be empty


def first_characters(pattern: str, flags: int = 0) -> set[str] | None:
    """Every character a match of `pattern` can start with, or None if not known."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, RecursionError):
        return None
    return _firsts(list(parsed), flags)


def group_index(match: re.Match[str]) -> int:
    """Which alternative of an expression of groups named s0, s1, ... matched."""
    name = match.lastgroup
    assert name is not None, "every alternative is a named group"
    return int(name[1:])


def guarded(pattern: str, flags: int = 0) -> str:
    """`pattern` behind a lookahead of its first characters (unchanged if unknown)."""
    firsts = first_characters(pattern, flags)
    if not firsts or any(c not in string.ascii_letters + string.digits for c in firsts):
        return pattern
    return "(?=[" + "".join(sorted(firsts)) + "])" + pattern
