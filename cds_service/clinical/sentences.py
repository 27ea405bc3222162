"""Sentence boundaries for radiology reports and problem-list text (spaCy component).

medspaCy's default splitter (PyRuSH) runs its rules in pure Python and took ~25 ms of
the ~34 ms it costs to read one 1,400-character hip MRI report; these rules take ~0.5 ms.
A sentence here is what ConText may reach across, so the rules err towards keeping a
wrapped line together:
  - `.` `!` `?` followed by a space end a sentence (after a list marker "1." too: the item
    is then quoted without its number); `.` directly followed by a capitalised word
    ("fracture.Edema") as well; a `?` glued to a word ("?AVN") does not;
  - a `.` after a common abbreviation ("approx.", "fig.", "Pt.") does not;
  - a line break ends a sentence after `.` `!` `?` `:`, before a capital, digit or bullet,
    and at a blank line; a line that goes on in lower case continues the sentence
    ("no evidence of\\navascular necrosis" stays one sentence, so its negation holds);
  - a section heading (found by the sectionizer before this runs) is a sentence of its
    own, so that a heading never qualifies a finding ("CONCLUSION: no osteonecrosis");
  - no sentence runs past MAX_SENTENCE_TOKENS: a run-on is cut after its last comma or
    semicolon in reach, else where it reaches the limit. ConText compares every
    modifier with every finding of a sentence; this keeps its work linear in the text.
"""

from __future__ import annotations

from typing import cast

import numpy
from spacy.attrs import ORTH, SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc
from thinc.types import Ints2d

_FINAL = frozenset({".", "!", "?"})
_ABBREVIATIONS = frozenset({
    "approx", "dr", "fig", "figs", "pt", "pts", "vs", "cf", "no", "nos", "ref", "incl",
    "mr", "mrs", "ms", "prof", "st", "wk", "wks", "yr", "yrs", "hx", "dx", "sx", "tx",
})
_BULLETS = frozenset({"-", "*", "•", "–", "—"})
_START, _INSIDE = numpy.uint64(1), numpy.uint64(2**64 - 1)  # spaCy's SENT_START 1 / -1
SENTENCE_STARTS = "cds_sentence_starts"  # doc.user_data key: first token of each sentence
MAX_SENTENCE_TOKENS = 120  # a long report sentence is ~60 tokens
_CUT_AFTER = frozenset({",", ";"})
_CUT_REACH = 40  # how far back from the limit a comma may close the run-on


def _line_break(text: str) -> bool:
    return "\n" in text and text.isspace()


def _starts_line_item(text: str) -> bool:
    first = text[:1]
    return first.isupper() or first.isdigit() or text in _BULLETS


def _ends_clause(text: str) -> bool:
    return text.endswith((".", "!", "?", ":"))


def cap_lengths(words: list[str], starts: list[bool], limit: int = MAX_SENTENCE_TOKENS
                ) -> list[bool]:
    """`starts` with a start added wherever a sentence would run past `limit` tokens."""
    begun = 0
    last_cut = -1
    for i, text in enumerate(words):
        if starts[i]:
            begun, last_cut = i, -1
            continue
        if i - begun >= limit:
            cut = last_cut + 1 if last_cut >= 0 and i - last_cut <= _CUT_REACH else i
            starts[cut] = True
            begun, last_cut = cut, -1
            for j in range(cut, i + 1):
                if words[j] in _CUT_AFTER:
                    last_cut = j
        elif text in _CUT_AFTER:
            last_cut = i
    return starts


def _last_word_before(words: list[str], i: int) -> str | None:
    """The last token before index `i` that is not whitespace."""
    for j in range(i - 1, -1, -1):
        if not words[j].isspace():
            return words[j]
    return None


def sentence_starts(words: list[str], spaces: list[bool]) -> list[bool]:
    """Where sentences start, from the token texts and whether each is followed by a space.
    Only a token at a line break, just after one, or just after `.` `!` `?` can start a
    sentence (after the first), so only those are looked at: a report has a few dozen."""
    starts = [False] * len(words)
    if not words:
        return starts
    starts[0] = True
    breaks = {i for i, text in enumerate(words) if "\n" in text and text.isspace()}
    after_final = {i + 1 for i, text in enumerate(words) if text in _FINAL}
    for i in sorted(breaks | {b + 1 for b in breaks} | after_final):
        if i == 0 or i >= len(words):
            continue
        text, prev = words[i], words[i - 1]
        if i in breaks:
            # whitespace holding a line break: its own "sentence" when it ends a line
            start = _ends_clause(prev) or "\n\n" in text or prev.isspace()
        elif i - 1 in breaks:
            last_word = _last_word_before(words, i - 1)
            start = (starts[i - 1] or last_word is None or _ends_clause(last_word)
                     or _starts_line_item(text) or "\n\n" in prev)
        else:  # prev in _FINAL
            before = words[i - 2] if i >= 2 else None
            abbreviation = (prev == "." and before is not None and not spaces[i - 2]
                            and before.lower() in _ABBREVIATIONS)
            if spaces[i - 1]:
                start = not abbreviation
            else:  # "fracture.Edema" ends a sentence; "?AVN", "1.2" do not
                start = (prev == "." and not abbreviation and text.istitle()
                         and before is not None and before.isalpha())
        starts[i] = start
    return starts


def sentence_starts_of(doc: Doc) -> list[int]:
    """The first token of each sentence (kept by `fast_sentences`, else from doc.sents)."""
    kept = doc.user_data.get(SENTENCE_STARTS)
    return kept if kept is not None else [sent.start for sent in doc.sents]


@Language.component("fast_sentences")
def fast_sentences(doc: Doc) -> Doc:
    """Set every token's sentence start at once (setting `Token.is_sent_start` one by one
    rescans the document each time)."""
    if not len(doc):
        return doc
    strings = doc.vocab.strings  # token texts from one array (no Token object each)
    words = [strings[orth] for orth in doc.to_array(ORTH).tolist()]
    spaces = doc.to_array(SPACY).astype(bool).tolist()
    starts = sentence_starts(words, spaces)
    if doc.has_extension("sections"):
        for section in doc._.sections or ():
            if section.category is not None and section.title_end > section.title_start:
                starts[section.title_start] = True
                if section.title_end < len(starts):
                    starts[section.title_end] = True
    first = numpy.flatnonzero(numpy.array(starts, dtype=bool))
    if numpy.diff(first, append=len(words)).max() > MAX_SENTENCE_TOKENS:
        first = numpy.flatnonzero(numpy.array(cap_lengths(words, starts), dtype=bool))
    marks = numpy.full((len(words), 1), _INSIDE, dtype=numpy.uint64)
    marks[first, 0] = _START
    doc.user_data[SENTENCE_STARTS] = first.tolist()
    doc.from_array([SENT_START], cast(Ints2d, marks))  # (thinc types it as ints)
    return doc
