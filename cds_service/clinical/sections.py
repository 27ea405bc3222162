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

from cds_service.clinical.vocabulary import Vocabulary

SUBHEADING = "subheading"
_FIRST_WORD = re.compile(r"(?:[-*•][ \t]*)?([A-Za-z]+)")
_LAST_WORD = re.compile(r"([A-Za-z]+)[ \t]*\Z")


class HeadingFinder:
    """Where the headings of a text are. Line-start forms are tried once per line and
    the colon form once per colon, on the few words before it: a scan of the whole text
    with every heading at every position took ~2 ms per report."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        starts: list[str] = []
        colons: list[str] = []
        self._categories: list[str] = []
        known: list[str] = []
        for kind in vocabulary.sections:
            words = sorted(kind.headings, key=len, reverse=True)
            known += words
            alt = "|".join(_words(w) for w in words)
            upper = "|".join(_words(w.upper()) for w in words)
            title = "|".join(_words(w[:1].upper() + w[1:]) for w in words)
            group = f"g{len(self._categories)}"
            self._categories.append(kind.category)
            colons.append(rf"(?P<{group}>\b(?:{alt}))[ \t]*\Z")
            starts.append(
                rf"(?P<{group}>(?:[-*•][ \t]*)?(?:{alt})[ \t]*(?=\n|\Z)"
                rf"|(?-i:(?:{upper}))(?=[ \t]+(?-i:[A-Z]?[a-z0-9?]))"
                rf"|(?-i:(?:{title}))(?=[ \t]+(?-i:[A-Z?])))")
        not_known = "|".join(_words(w) for w in sorted(known, key=len, reverse=True))
        group = f"g{len(self._categories)}"
        self._categories.append(SUBHEADING)
        starts.append(rf"(?P<{group}>(?:[-*•][ \t]*)?(?!(?:{not_known})[ \t]*:)"
                      r"(?-i:[A-Z])[A-Za-z/&' -]{0,30}[A-Za-z)][ \t]*:(?=[ \t\n]|\Z))")
        self._start = re.compile("|".join(starts), re.IGNORECASE)
        # a line can start with a heading only if its first word starts one (or it has
        # a colon, for a sub-heading): the expression is tried on those lines alone
        self._first_words = {w.split()[0].lower() for w in known}
        self._last_words = {w.split()[-1].lower() for w in known}
        self._colon = re.compile("|".join(colons), re.IGNORECASE)

    def find(self, text: str):
        """(category, start, end) character spans of headings, in text order."""
        found: list[tuple[int, int, str]] = []
        line_start = 0
        for line in text.split("\n"):
            indent = len(line) - len(line.lstrip(" \t"))
            first = _FIRST_WORD.match(line, indent)
            m = None
            if ":" in line or (first and first.group(1).lower() in self._first_words):
                m = self._start.match(line, indent)
            if m is not None:
                found.append((line_start + m.start(), line_start + m.end(), self._category(m)))
            colon = line.find(":")
            while colon >= 0:
                window = max(0, colon - 60)
                last = _LAST_WORD.search(line, max(0, colon - 30), colon)
                c = None
                if last and last.group(1).lower() in self._last_words:
                    c = self._colon.search(line, window, colon)
                if c is not None:
                    found.append((line_start + c.start(), line_start + colon + 1,
                                  self._category(c)))
                colon = line.find(":", colon + 1)
            line_start += len(line) + 1
        found.sort()
        return found

    def _category(self, m: re.Match[str]) -> str:
        return self._categories[int(m.lastgroup[1:])]


def _words(heading: str) -> str:
    return r"[ \t]+".join(re.escape(w) for w in heading.split())


@Language.factory("report_sections")
def make_report_sections(nlp, name):  # noqa: ANN001, ANN201 (spaCy reads real annotations)
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
