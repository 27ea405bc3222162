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

import numpy
from spacy.attrs import SENT_START, SPACY
from spacy.language import Language
from spacy.tokens import Doc

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


def sentence_starts(words: list[str], spaces: list[bool]) -> list[bool]:
    """Where sentences start, from the token texts and whether each is followed by a space."""
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
    words = [token.text for token in doc]
    spaces = doc.to_array(SPACY).astype(bool).tolist()  # (one C call, not a property each)
    starts = sentence_starts(words, spaces)
    if doc.has_extension("sections"):
        for section in doc._.sections or ():
            if section.category is not None and section.title_end > section.title_start:
                starts[section.title_start] = True
                if section.title_end < len(starts):
                    starts[section.title_end] = True
    first = numpy.flatnonzero(numpy.array(cap_lengths(words, starts), dtype=bool))
    marks = numpy.full((len(words), 1), _INSIDE, dtype=numpy.uint64)
    marks[first, 0] = _START
    doc.user_data[SENTENCE_STARTS] = first.tolist()
    doc.from_array([SENT_START], marks)
    return doc
