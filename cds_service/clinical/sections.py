"""Report sections: headings found in one pass, as medspaCy `Section`s (spaCy component).

Why not medspaCy's Sectionizer itself: radiology headings need regular expressions (a
heading with a colon anywhere, or alone on its line, or in capitals at a line start), and
the Sectionizer's regex matcher re-joins the whole document text once per rule and then
sets an attribute on every token: with the ~30 heading rules that made reading S1's three
reports 5x slower. This component runs one compiled expression over the text once and
fills the same `doc._.sections` list with medspaCy's own `Section` objects, so anything
built on medspaCy's sections still works.

Heading forms, for every heading of `sections.toml`, in any case unless said otherwise:
  - the heading and a colon, anywhere ("Impression: ...");
  - the heading alone on its line ("FINDINGS");
  - the heading in capitals at a line start, followed by text not in capitals
    ("IMPRESSION Diffuse edema", not "HISTORY OF AVN");
  - the heading capitalised at a line start, followed by a capital or "?"
    ("Findings No AVN", "Indication ?AVN", not "History of AVN");
and any other short capitalised label and colon at a line start ("Right hip:", "Bones:"):
a sub-heading, which ends the section before it.
"""

from __future__ import annotations

import re

from medspacy.section_detection import Section
from spacy.language import Language
from spacy.tokens import Doc

from cds_service.clinical.regex_dispatch import group_index
from cds_service.clinical.vocabulary import Vocabulary

SUBHEADING = "subheading"
_FIRST_WORD = re.compile(r"(?:[-*•][ \t]*)?([A-Za-z]+)")
_LAST_WORD = re.compile(r"([A-Za-z]+)[ \t]*\Z")


class HeadingFinder:
    """Where the headings of a text are. Each line is tried once, with only the headings
    that begin with its first word; each colon once, with only the headings that end in
    the word before it. (One expression with every heading at every position took ~2 ms
    per report.)"""

    def __init__(self, vocabulary: Vocabulary) -> None:
        by_first: dict[str, list[tuple[str, str]]] = {}
        by_last: dict[str, list[tuple[str, str]]] = {}
        for kind in vocabulary.sections:
            for heading in kind.headings:
                words = heading.split()
                by_first.setdefault(words[0].lower(), []).append((kind.category, heading))
                by_last.setdefault(words[-1].lower(), []).append((kind.category, heading))
        self._start = {w: _expression(h, _line_start_forms) for w, h in by_first.items()}
        self._colon = {w: _expression(h, _colon_form) for w, h in by_last.items()}
        known = "|".join(_words(h) for hs in by_first.values() for _, h in
                         sorted(hs, key=lambda x: -len(x[1])))
        self._subheading = re.compile(
            rf"(?:[-*•][ \t]*)?(?!(?:{known})[ \t]*:)"
            r"(?-i:[A-Z])[A-Za-z/&' -]{0,30}[A-Za-z)][ \t]*:(?=[ \t\n]|\Z)", re.IGNORECASE)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, category) character spans of headings, in text order."""
        found: list[tuple[int, int, str]] = []
        line_start = 0
        for line in text.split("\n"):
            indent = len(line) - len(line.lstrip(" \t"))
            first = _FIRST_WORD.match(line, indent)
            hit = None
            if first is not None and first.group(1).lower() in self._start:
                expression, categories = self._start[first.group(1).lower()]
                m = expression.match(line, indent)
                if m is not None:
                    hit = (m.start(), m.end(), categories[group_index(m)])
            if hit is None and ":" in line:
                m = self._subheading.match(line, indent)
                if m is not None:
                    hit = (m.start(), m.end(), SUBHEADING)
            if hit is not None:
                found.append((line_start + hit[0], line_start + hit[1], hit[2]))
            colon = line.find(":")
            while colon >= 0:
                last = _LAST_WORD.search(line, max(0, colon - 30), colon)
                if last is not None and last.group(1).lower() in self._colon:
                    expression, categories = self._colon[last.group(1).lower()]
                    c = expression.search(line, max(0, colon - 60), colon)
                    if c is not None:
                        found.append((line_start + c.start(), line_start + colon + 1,
                                      categories[group_index(c)]))
                colon = line.find(":", colon + 1)
            line_start += len(line) + 1
        found.sort()
        return found


def _line_start_forms(alt: str, upper: str, title: str) -> str:
    return (rf"(?:[-*•][ \t]*)?(?:{alt})[ \t]*(?=\n|\Z)"
            rf"|(?-i:(?:{upper}))(?=[ \t]+(?-i:[A-Z]?[a-z0-9?]))"
            rf"|(?-i:(?:{title}))(?=[ \t]+(?-i:[A-Z?]))")


def _colon_form(alt: str, upper: str, title: str) -> str:
    return rf"\b(?:{alt})[ \t]*\Z"


def _expression(headings: list[tuple[str, str]], form) -> tuple[re.Pattern[str], list[str]]:
    """One expression, a named group per section kind, longest heading first."""
    categories: list[str] = []
    parts: list[str] = []
    for category in dict.fromkeys(c for c, _ in headings):
        words = sorted((h for c, h in headings if c == category), key=len, reverse=True)
        alt = "|".join(_words(w) for w in words)
        upper = "|".join(_words(w.upper()) for w in words)
        title = "|".join(_words(w[:1].upper() + w[1:]) for w in words)
        parts.append(f"(?P<g{len(categories)}>{form(alt, upper, title)})")
        categories.append(category)
    return re.compile("|".join(parts), re.IGNORECASE), categories


def _words(heading: str) -> str:
    return r"[ \t]+".join(re.escape(w) for w in heading.split())


@Language.factory("report_sections")
def make_report_sections(nlp, name):
    return ReportSections()


class ReportSections:
    """Sets `doc._.sections`; `use(vocabulary)` before the first document."""

    def __init__(self) -> None:
        self._finder: HeadingFinder | None = None
        if not Doc.has_extension("sections"):  # medspaCy registers it on import
            Doc.set_extension("sections", default=None)

    def use(self, vocabulary: Vocabulary) -> None:
        self._finder = HeadingFinder(vocabulary)

    def __call__(self, doc: Doc) -> Doc:
        sections: list[Section] = []
        titles = list(self._titles(doc))
        first = titles[0][1] if titles else len(doc)
        if first > 0 or not titles:
            sections.append(Section(None, 0, 0, 0, first))
        for i, (category, start, end) in enumerate(titles):
            body_end = titles[i + 1][1] if i + 1 < len(titles) else len(doc)
            sections.append(Section(category, start, end, end, body_end))
        doc._.sections = sections
        return doc

    def _titles(self, doc: Doc):
        """(category, first token, end token) of each heading, in order, not overlapping."""
        assert self._finder is not None, "ReportSections.use(vocabulary) first"
        last_end = 0
        for a, b, category in self._finder.find(doc.user_data.get("text") or doc.text):
            span = doc.char_span(a, b, alignment_mode="expand")
            if span is None or not len(span) or span.start < last_end:
                continue
            last_end = span.end
            yield category, span.start, span.end
