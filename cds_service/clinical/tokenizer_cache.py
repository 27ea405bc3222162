"""Let spaCy's tokenizer cache every word of a report, not only its first line.

spaCy (3.7) caches how each whitespace-separated chunk splits into tokens, but stops
caching for the rest of a document once any chunk is a tokenizer special case (a
doc-wide flag, `has_special`, see spaCy's `Tokenizer._save_cached`). Its English special
cases include the whitespace strings "\\n", "\\t" and " ", so in a report everything
after the first line break was split afresh on every read: 0.9 of the ~2.8 ms it took
to read S1's three reports. Such a chunk tokenizes to the same single token without its
special case, so the special cases that only name a whitespace token (ORTH and nothing
else) are dropped; the no-break space keeps its own (it sets NORM), and so do the rest.
"""

from __future__ import annotations

from spacy.attrs import ORTH
from spacy.tokenizer import Tokenizer


def _names_whitespace_only(key: str, tokens: list[dict]) -> bool:
    return key.isspace() and tokens == [{ORTH: key}]


def cache_past_line_breaks(tokenizer: Tokenizer) -> Tokenizer:
    """Drop the special cases that only name a whitespace token (the tokens stay the
    same; see the module)."""
    rules = tokenizer.rules or {}
    kept = {key: value for key, value in rules.items() if not _names_whitespace_only(key, value)}
    if len(kept) < len(rules):
        tokenizer.rules = kept  # (spaCy flushes its cache and rebuilds the special cases)
    return tokenizer
