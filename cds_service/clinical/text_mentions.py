"""From a document the reading pipeline has processed to Mentions: each finding with its
status, site, side, section and sign.

Context decides a few concepts here, not in the vocabulary: edema and bright signal
count as bone marrow edema only at a bone (and signal only with a fluid-sensitive
sequence named); a low-signal band convex to the articular surface is a fracture line,
not AVN; degenerative erosions are not infection; and a finding said to have moved from
one joint to another is over at the first and present at the second.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import (
    nearest_place,
    nearest_side,
    nearest_site,
    side_of_text,
    sides_near,
    site_matches,
)
from cds_service.clinical.mention import Mention
from cds_service.clinical.sentences import sentence_starts_of
from cds_service.clinical.text_places import at_each_place

_SEQUENCE = re.compile(
    r"\b(stir|t2\w*|fat[- ]?(sat\w*|suppress\w*)|fluid[- ]sensitive|water[- ]sensitive|"
    r"pd\w*|proton density|tirm|dixon|inversion recovery|fs|fat[- ]sat)\b",
    re.IGNORECASE,
)
_DIFFUSE = re.compile(
    r"\b(diffuse\w*|extensive|ill[- ]defined|poorly[- ](defined|demarcated|marginated)|"
    r"extend\w*|intertrochanteric|head (and|&|to|through) (the )?(femoral )?neck)\b",
    re.IGNORECASE,
)
_FOCAL = re.compile(
    r"\b(focal|well[- ]defined|well[- ]demarcated|sharply[- ]demarcated|geographic|localized|"
    r"localised)\b",
    re.IGNORECASE,
)
_FRACTURE_BAND = re.compile(r"\b(band|line|rim)s?\b", re.IGNORECASE)
_CONVEX = re.compile(r"\b(convex|parallel)\b", re.IGNORECASE)
_THIN_BEFORE = re.compile(r"\bthin\b", re.IGNORECASE)
_FRACTURE_NAMED = re.compile(r"\bfracture", re.IGNORECASE)
_HIGH_BEFORE = re.compile(
    r"\b(high|increased|bright|elevated|raised|abnormal|altered|hyperintense)\b[^.;,]{0,30}$",
    re.IGNORECASE)
_OUTLINE_AFTER = re.compile(r"^[\s-]*(inner\s+|outer\s+)?(rim|band|line|margin)", re.IGNORECASE)
_BURSA = re.compile(r"\bbursa", re.IGNORECASE)
_MARROW = re.compile(r"\b(bone|marrow|osseous)\b", re.IGNORECASE)
_LESION = re.compile(r"\b(geographic|demarcated|double[- ]line|inner rim)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """Everything the reader found in one text."""

    mentions: tuple[Mention, ...] = ()
    truncated: bool = False  # the text was longer than MAX_TEXT_CHARS; the rest unread

    def of(self, *concepts: str) -> list[Mention]:
        return [m for m in self.mentions if m.concept in concepts]


def _categories(ent) -> set[str]:
    """The categories of the modifiers that reach `ent`. A modifier whose rule names
    words that end its scope (`ends_at`: "in the absence of" ends at a comma) does not
    reach past them."""
    cats = set()
    for modifier in ent._.modifiers:
        metadata = modifier.rule.metadata
        ends = metadata.get("ends_at") if metadata else None
        if ends:
            doc = ent.doc
            a, b = modifier.modifier_span
            between = doc[b:ent.start] if b <= ent.start else doc[ent.end:a]
            if any(token.text in ends for token in between):
                continue
        cats.add(modifier.category.upper())
    return cats


@dataclass(frozen=True)
class _Sentence:
    """What every mention in one sentence shares (worked out once per sentence)."""

    start_char: int
    text: str
    quoted: str
    diffuse: bool
    focal: bool


@dataclass(frozen=True)
class _Section:
    category: str | None
    site: str | None  # named in its heading ("RIGHT HIP:")
    side: str | None
    sequence: bool = False  # its heading names a fluid-sensitive sequence ("STIR:")


def _sentences_of_ents(doc, ents) -> list[_Sentence]:
    """The sentence of each entity, in `doc.ents` order (spaCy's `Span.sent` rescans the
    document for every entity)."""
    if not ents:
        return []
    starts = sentence_starts_of(doc)
    whole = doc.user_data.get("text") or doc.text
    shared: dict[int, _Sentence] = {}
    found = []
    for ent in ents:
        i = bisect.bisect_right(starts, ent.start) - 1
        if i not in shared:
            first = doc[starts[i]]
            last = doc[(starts[i + 1] if i + 1 < len(starts) else len(doc)) - 1]
            # the text by character offsets: Span.text re-joins every token
            text = whole[first.idx:last.idx + len(last)]
            shared[i] = _Sentence(first.idx, text, " ".join(text.split())[:300],
                                  bool(_DIFFUSE.search(text)), bool(_FOCAL.search(text)))
        found.append(shared[i])
    return found


def _section(doc, section, before: _Section | None) -> _Section:
    if section.category is None:  # text before the first heading: the section goes on
        return before or _Section(None, None, None)
    first, last = doc[section.title_start], doc[section.title_end - 1]
    text = doc.user_data.get("text") or doc.text
    return _heading(section.category, text[first.idx:last.idx + len(last)])


@lru_cache(maxsize=1024)
def _heading(category: str, title: str) -> _Section:
    """What a heading says of its section (headings recur: "FINDINGS:", "RIGHT HIP:")."""
    return _Section(category, nearest_site(title) if title else None,
                    side_of_text(title) if title else None, bool(_SEQUENCE.search(title)))


def _sections_of_ents(doc, ents, before: _Section | None) -> list[_Section]:
    sections = doc._.sections or []
    if not ents:
        return []
    starts = [s.title_start for s in sections]
    made: dict[int, _Section] = {}
    out = []
    for ent in ents:
        i = bisect.bisect_right(starts, ent.start) - 1
        if i not in made:
            made[i] = _section(doc, sections[i], before) if i >= 0 else (
                before or _Section(None, None, None))
        out.append(made[i])
    return out


def last_section(doc, before: _Section | None = None) -> _Section | None:
    """The section a document ends in (the next piece of a long text starts in it)."""
    sections = doc._.sections or []
    return _section(doc, sections[-1], before) if sections else before


def doc_mentions(doc, section_status: Mapping[str, str], before: _Section | None = None
                 ) -> Iterator[Mention]:
    """Every mention in `doc`; `section_status` maps a section category to the status
    its findings take ("indication" -> "question"); `before` is the section the text
    before `doc` ended in (a long text is read in pieces). A mention whose sentence names no
    site or side takes those last named before it in the text (else the first after):
    in "MRI LEFT HIP ... No effusion." the effusion is of the left hip."""
    text = doc.user_data.get("text") or doc.text
    places: list[tuple[int, int, str]] | None = None  # every site of the text, when needed
    ents = doc.ents  # (each access builds every entity Span anew)
    for ent, sent, section in zip(ents, _sentences_of_ents(doc, ents),
                                  _sections_of_ents(doc, ents, before)):
        words = text[ent.start_char:ent.end_char]
        offset = ent.start_char - sent.start_char
        end = offset + len(words)
        concept = ent.label_
        rule = ent._.target_rule
        sign = (rule.metadata or {}).get("sign", concept) if rule is not None else concept
        cats = _categories(ent)
        concept, sign = _in_context(concept, sign, words, sent.text, offset, end, section,
                                    cats)
        if concept is None:
            continue
        status = section_status.get(section.category or "")
        historical = "HISTORICAL" in cats or status == "historical"
        site = nearest_site(sent.text, offset, end) or section.site
        side = nearest_side(sent.text, offset, end) or section.side
        if site is None or side is None:
            places = sorted(site_matches(text)) if places is None else places
            site_before, side_before = _carried(text, places, ent.start_char)
            site, side = site or site_before, side or side_before
        mention = Mention(
            concept=concept,
            phrase=words,
            sentence=sent.quoted,
            negated="NEGATED_EXISTENCE" in cats,
            uncertain="POSSIBLE_EXISTENCE" in cats or status == "possible",
            historical=historical,
            hypothetical="HYPOTHETICAL" in cats,
            resolved=tr.RESOLVED in cats,
            improving=tr.IMPROVING in cats,
            in_indication=status == "question" and not historical,
            site=site,
            side=side,
            diffuse=sent.diffuse,
            focal=sent.focal,
            section=section.category,
            sign=sign,
        )
        yield from at_each_place(mention, sent.text, end)


def _in_context(concept: str, sign: str, words: str, sentence: str, offset: int, end: int,
                section: _Section, cats: set[str]) -> tuple[str | None, str]:
    """The concept words stand for in their sentence, or None when they stand for none."""
    if concept == tr.IGNORE:
        return None, sign
    if concept in tr.IN_CONTEXT:
        site, soft = nearest_place(sentence, offset, end)
        if soft:
            return None, sign  # edema or bright signal of soft tissue or fluid
        if concept == tr.SIGNAL:
            if site is None and _MARROW.search(sentence):
                site = "bone marrow"
            if site is None or not (_SEQUENCE.search(sentence) or section.sequence):
                return None, sign  # bright signal with no bone or no sequence named
            if words.lower().startswith("signal") and not _HIGH_BEFORE.search(
                    sentence[max(0, offset - 40):offset]):
                return None, sign  # "signal" with no "high"/"increased" before it
            if _OUTLINE_AFTER.match(sentence[end:end + 20]) or _LESION.search(sentence):
                return None, sign  # signal of a rim or a demarcated lesion: AVN, not edema
        return tr.BME, "bone marrow edema"
    if concept == tr.AVN and _FRACTURE_BAND.search(words):
        if _THIN_BEFORE.search(sentence[max(0, offset - 30):offset]):
            return tr.THIN_LINE, "thin subchondral line"
        if _CONVEX.search(sentence):
            return tr.SUBCHONDRAL_FRACTURE, "subchondral fracture line"
        if _FRACTURE_NAMED.search(sentence):
            return None, sign  # the band is the fracture the sentence names
    if concept == tr.INFECTION and tr.DEGENERATIVE in cats and sign == "erosion":
        return None, sign  # degenerative or inflammatory erosions are not infection
    if concept == tr.INFECTION and sign == "abscess or collection" and _BURSA.search(sentence):
        return None, sign  # fluid in a bursa is bursitis
    return concept, sign


def _carried(text: str, places: list[tuple[int, int, str]], at: int
             ) -> tuple[str | None, str | None]:
    """The site named last before `at` (else first after) and its side."""
    i = bisect.bisect_left(places, (at,)) - 1
    chosen = places[i] if i >= 0 else (places[0] if places else None)
    if chosen is None:
        return None, None
    return chosen[2], sides_near(text, chosen[0], chosen[1])
