"""Read radiology and problem-list text with medspaCy (target matcher + ConText).

Why medspaCy: negation, uncertainty and history decide this service ("no double line
sign", "AVN cannot be excluded", "bone marrow oedema has resolved") and ConText is the
field's standard, offline. The pipeline loads once per process (`warm()` at worker start,
else lazily on first use) and readings are cached by a SHA-256 of the text, so the same
report is never read twice.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import nearest_side, nearest_site
from cds_service.clinical.phrase_rules import compile_rules

_CACHE_SIZE = 2048
_lock = threading.Lock()
_nlp = None
_cache: OrderedDict[str, Reading] = OrderedDict()

_SEQUENCE = re.compile(
    r"\b(stir|t2\w*|fat[- ]?(sat\w*|suppress\w*)|fluid[- ]sensitive|pd[- ]?fs|proton density)\b",
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
_INDICATION_START = re.compile(
    r"\b(indication|clinical history|history|reason for (exam|study|examination|referral)|"
    r"clinical (information|details|question))\s*:",
    re.IGNORECASE,
)
_SECTION_START = re.compile(
    r"\b(technique|comparison|findings|impression|conclusions?|opinion|report|observations|"
    r"sequences|procedure|protocol|results?|interpretation|exam|examination)\s*:"
    r"|\n\s*\n", re.IGNORECASE
)
_FRACTURE_BAND = re.compile(r"\b(band|line|rim)\b", re.IGNORECASE)
_CONVEX = re.compile(r"\bconvex\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One concept found in text, with how the sentence qualifies it."""

    concept: str
    phrase: str  # the words matched
    sentence: str  # the sentence it was read in (quoted on cards)
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    resolved: bool = False
    improving: bool = False
    in_indication: bool = False  # inside "Indication:" / "History:": the question, not a finding
    site: str | None = None  # nearest anatomical site in the sentence (anatomy.SITES)
    side: str | None = None  # "left" | "right" | "bilateral"
    diffuse: bool = False
    focal: bool = False

    @property
    def affirmed(self) -> bool:
        """Stated as present now."""
        return not (self.negated or self.uncertain or self.historical or self.hypothetical
                    or self.resolved or self.in_indication)

    @property
    def possible(self) -> bool:
        """Raised as a possibility ("cannot exclude", "suspicious for"), not denied."""
        return self.uncertain and not (self.negated or self.in_indication or self.resolved)

    @property
    def transient(self) -> bool:
        """Described as resolved or resolving (evidence of a self-limiting episode)."""
        return (self.resolved or self.improving) and not self.negated


@dataclass(frozen=True)
class Reading:
    """Everything the reader found in one text."""

    mentions: tuple[Mention, ...] = ()

    def of(self, *concepts: str) -> list[Mention]:
        return [m for m in self.mentions if m.concept in concepts]


def _silence_logging() -> None:
    """PyRuSH logs every sentence split at DEBUG through loguru; spaCy/medspaCy use logging."""
    try:
        from loguru import logger as loguru_logger

        loguru_logger.disable("PyRuSH")
        loguru_logger.disable("medspacy")
    except ImportError:  # pragma: no cover - loguru is a PyRuSH dependency
        pass
    for name in ("PyRuSH", "medspacy", "spacy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _build(compiled: bool = True):
    """The reading pipeline; `compiled=False` keeps the rules as token patterns (tests
    compare the two)."""
    import medspacy

    _silence_logging()
    from cds_service.clinical import sentences  # noqa: F401  (registers "fast_sentences")
    from cds_service.clinical.entities import TARGETS  # (registers "targets_as_entities")

    # The target matcher hands its spans over as a group and `targets_as_entities` sets
    # them as doc.ents at once: medspaCy adds them one by one, rebuilding doc.ents each
    # time (10% of a typical request's profile).
    nlp = medspacy.load(load_rules=False, medspacy_enable=[
        "medspacy_tokenizer", "medspacy_context"])
    nlp.add_pipe("fast_sentences", first=True)
    nlp.add_pipe("medspacy_target_matcher", after="fast_sentences",
                 config={"result_type": "group", "span_group_name": TARGETS})
    nlp.add_pipe("targets_as_entities", after="medspacy_target_matcher")

    def tokenize(text: str) -> list[str]:
        return [token.lower_ for token in nlp.tokenizer(text)]

    targets, modifiers = tr.target_rules(), tr.context_rules()
    if compiled:
        targets, modifiers = compile_rules(targets, tokenize), compile_rules(modifiers, tokenize)
    nlp.get_pipe("medspacy_target_matcher").add(targets)
    nlp.get_pipe("medspacy_context").add(modifiers)
    return nlp


def warm() -> None:
    """Load the pipeline now (call at worker start so the first request is not slow)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _build()
                # One sentence through every component: spaCy and PyRuSH finish their
                # lazy set-up on the first document, which would otherwise be a request.
                _nlp("No double line sign. Bone marrow edema of the left femoral head.")


def read(text: str | None) -> Reading:
    """Mentions in `text` (cached by content hash; empty text gives an empty reading)."""
    if not text or not text.strip():
        return Reading()
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    warm()
    with _lock:  # spaCy pipelines are not documented as thread-safe
        doc = _nlp(text)
        reading = Reading(tuple(_mentions(doc, _indication_spans(text))))
        _cache[key] = reading
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return reading


def cache_size() -> int:
    return len(_cache)


def _indication_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for start in _INDICATION_START.finditer(text):
        end = _SECTION_START.search(text, start.end())
        spans.append((start.start(), end.start() if end else len(text)))
    return spans


def _categories(ent) -> set[str]:
    return {modifier.category.upper() for modifier in ent._.modifiers}


@dataclass(frozen=True)
class _Sentence:
    """What every mention in one sentence shares (worked out once per sentence)."""

    start_char: int
    text: str
    quoted: str
    diffuse: bool
    focal: bool


def _sentences_of_ents(doc) -> list[_Sentence]:
    """The sentence of each entity, in `doc.ents` order. One pass over `doc.sents`:
    spaCy's `Span.sent` rescans the document for every entity."""
    ents = doc.ents
    if not ents:
        return []
    sents = list(doc.sents)
    starts = [sent.start for sent in sents]
    shared: dict[int, _Sentence] = {}
    found = []
    for ent in ents:
        i = bisect.bisect_right(starts, ent.start) - 1
        if i not in shared:
            sent = sents[i]
            text = sent.text
            shared[i] = _Sentence(sent.start_char, text, " ".join(text.split())[:300],
                                  bool(_DIFFUSE.search(text)), bool(_FOCAL.search(text)))
        found.append(shared[i])
    return found


def _mentions(doc, indication: list[tuple[int, int]]):
    for ent, sent in zip(doc.ents, _sentences_of_ents(doc)):
        offset = ent.start_char - sent.start_char
        concept = ent.label_
        if concept == tr.SIGNAL:
            if not _SEQUENCE.search(sent.text) or nearest_site(sent.text, offset) is None:
                continue  # bright signal with no sequence or no bone named: not read as edema
            concept = tr.BME
        if concept == tr.AVN and _FRACTURE_BAND.search(ent.text) and _CONVEX.search(sent.text):
            concept = tr.SUBCHONDRAL_FRACTURE  # a band convex to the surface is a fracture line
        cats = _categories(ent)
        yield Mention(
            concept=concept,
            phrase=ent.text,
            sentence=sent.quoted,
            negated="NEGATED_EXISTENCE" in cats,
            uncertain="POSSIBLE_EXISTENCE" in cats,
            historical="HISTORICAL" in cats,
            hypothetical="HYPOTHETICAL" in cats,
            resolved=tr.RESOLVED in cats,
            improving=tr.IMPROVING in cats,
            in_indication=any(a <= ent.start_char < b for a, b in indication),
            site=nearest_site(sent.text, offset, offset + len(ent.text)),
            side=nearest_side(sent.text, offset),
            diffuse=sent.diffuse,
            focal=sent.focal,
        )
