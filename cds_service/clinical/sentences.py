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
    ("no evidence of\\navascular necrosis" stays one sentence, so its negation holds).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Token

_FINAL = frozenset({".", "!", "?"})
_ABBREVIATIONS = frozenset({
    "approx", "dr", "fig", "figs", "pt", "pts", "vs", "cf", "no", "nos", "ref", "incl",
    "mr", "mrs", "ms", "prof", "st", "wk", "wks", "yr", "yrs", "hx", "dx", "sx", "tx",
})
_BULLETS = frozenset({"-", "*", "•", "–", "—"})


def _line_break(token: Token) -> bool:
    return token.is_space and "\n" in token.text


def _starts_line_item(token: Token) -> bool:
    first = token.text[:1]
    return first.isupper() or first.isdigit() or token.text in _BULLETS


def _ends_clause(token: Token) -> bool:
    return token.text in _FINAL or token.text == ":" or token.text.endswith((".", "!", "?", ":"))


@Language.component("fast_sentences")
def fast_sentences(doc: Doc) -> Doc:
    last_word: Token | None = None  # the last non-space token before the current one
    for i, tok in enumerate(doc):
        if i == 0:
            tok.is_sent_start = True
            if not tok.is_space:
                last_word = tok
            continue
        prev = doc[i - 1]
        if _line_break(tok):
            # whitespace holding a line break: its own "sentence" when it ends a line
            tok.is_sent_start = _ends_clause(prev) or "\n\n" in tok.text or prev.is_space
        elif _line_break(prev):
            tok.is_sent_start = (prev.is_sent_start or last_word is None
                                 or _ends_clause(last_word) or _starts_line_item(tok)
                                 or "\n\n" in prev.text)
        elif prev.text in _FINAL:
            before = doc[i - 2] if i >= 2 else None
            abbreviation = (prev.text == "." and before is not None and not before.whitespace_
                            and before.lower_ in _ABBREVIATIONS)
            if prev.whitespace_:
                tok.is_sent_start = not abbreviation
            else:  # "fracture.Edema" ends a sentence; "?AVN", "1.2" do not
                tok.is_sent_start = (prev.text == "." and not abbreviation and tok.is_title
                                     and before is not None and before.is_alpha)
        else:
            tok.is_sent_start = False
        if not tok.is_space:
            last_word = tok
    return doc
