"""Read radiology and problem-list text with medspaCy (sectionizer, target matcher, ConText).

Why medspaCy: negation, uncertainty and history decide this service ("no double line
sign", "AVN cannot be excluded", "bone marrow oedema has resolved"); ConText is the
field's standard and its sectionizer tells the clinical question from the findings,
offline. The words come from `hooks/vocabulary/` (see vocabulary.py). The pipeline
loads once per process (`warm()` at worker start, else on first use) and readings are
cached by a SHA-256 of the text, so the same report is never read twice.

Work is bounded whatever the text: it is read up to MAX_TEXT_CHARS, in pieces of at
most CHUNK_CHARS, and no further once MAX_MENTIONS findings are read (the reading says
it was cut); no sentence is longer than sentences.MAX_SENTENCE_TOKENS, and ConText runs
sentence by sentence (targeted_context.py), so its pairwise work stays linear.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cds_service.clinical import text_rules as tr
from cds_service.clinical import vocabulary as vocab
from cds_service.clinical.phrase_rules import compile_rules
from cds_service.clinical.targeted_context import TargetedConText, gate_token_patterns
from cds_service.clinical.tokenizer_cache import cache_past_line_breaks
from cds_service.clinical.text_mentions import Mention, Reading, doc_mentions, last_section
from cds_service.resources import vocabulary_dir

__all__ = ["Mention", "Reading", "read", "warm", "use_vocabulary", "cache_size"]

DEFAULT_VOCABULARY = vocabulary_dir()  # the package's own (cds_service/hooks/vocabulary)
MAX_TEXT_CHARS = 50_000  # a long hip MRI report is ~5,000 characters
CHUNK_CHARS = 4_000  # read in pieces of this size at most (see chunks())
MAX_MENTIONS = 400  # findings read from one text at most (a real report has < 50)
MAX_RUN = 100  # characters without a space before one is put in (see _break_runs)
MAX_CACHED_MENTIONS = 100_000  # the reading cache holds at most this many findings in all
_LONG_RUN = re.compile(r"\S{%d}(?=\S)" % MAX_RUN)
_CACHE_SIZE = 2048
_lock = threading.Lock()
_nlp = None
_vocabulary_dir = DEFAULT_VOCABULARY
_vocabulary: vocab.Vocabulary | None = None  # as checked by use_vocabulary, for _build
_section_status: dict[str, str] = {}
_cache: OrderedDict[str, Reading] = OrderedDict()
_cached_mentions = 0


def _no_checkpoint(stage: str) -> None:
    return None


_checkpoint: Callable[[str], None] = _no_checkpoint

def _silence_logging() -> None:
    """spaCy/medspaCy log through logging (PyRuSH through loguru, when installed)."""
    try:
        from loguru import logger as loguru_logger

        loguru_logger.disable("PyRuSH")
        loguru_logger.disable("medspacy")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy's PyRuSH
        pass
    for name in ("PyRuSH", "medspacy", "spacy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def use_vocabulary(folder: Path) -> vocab.Vocabulary:
    """Check the vocabulary in `folder` now (VocabularyError names the file and entry)
    and read with it from now on. Call at start-up, before `warm()`."""
    global _vocabulary_dir, _vocabulary, _nlp
    loaded = vocab.load(folder)
    with _lock:
        if folder.resolve() != _vocabulary_dir.resolve():
            _vocabulary_dir, _nlp = folder, None
            _clear_cache()
        _vocabulary = loaded
    return loaded


def _build(compiled: bool = True, folder: Path | None = None):
    """The reading pipeline; `compiled=False` keeps medspaCy's default rules as token
    patterns (tests compare the two)."""
    import medspacy

    _silence_logging()
    from cds_service.clinical import sections, sentences  # noqa: F401  (register components)
    from cds_service.clinical.entities import TARGETS  # (registers "targets_as_entities")

    # the files were read and checked at start-up (use_vocabulary): not again here
    vocabulary = vocab.load(folder) if folder else (_vocabulary or vocab.load(_vocabulary_dir))
    _section_status.clear()
    _section_status.update(vocabulary.section_status())
    # Sections first, so that the sentence splitter can make each heading a sentence of
    # its own; the target matcher hands its spans over as a group and
    # `targets_as_entities` sets them as doc.ents at once (medspaCy adds them one by one).
    nlp = medspacy.load(load_rules=False, medspacy_enable=[
        "medspacy_tokenizer", "medspacy_context"])
    cache_past_line_breaks(nlp.tokenizer)
    nlp.add_pipe("report_sections", first=True)
    nlp.add_pipe("fast_sentences", after="report_sections")
    nlp.add_pipe("medspacy_target_matcher", after="fast_sentences",
                 config={"result_type": "group", "span_group_name": TARGETS})
    nlp.add_pipe("targets_as_entities", after="medspacy_target_matcher")

    def tokenize(text: str) -> list[str]:
        return [token.lower_ for token in nlp.tokenizer(text)]

    targets, modifiers = tr.target_rules(vocabulary), tr.context_rules(vocabulary)
    if compiled:
        modifiers = compile_rules(modifiers, tokenize)
    nlp.get_pipe("report_sections").use(vocabulary)
    nlp.get_pipe("medspacy_target_matcher").add(targets)
    context = nlp.get_pipe("medspacy_context")
    context.add(modifiers)
    context.__class__ = TargetedConText  # the same component, given fewer modifiers
    gate_token_patterns(context)
    return nlp


def warm() -> None:
    """Load the pipeline now (call at worker start so the first request is not slow)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _build()
                # One text through every component: spaCy finishes its lazy set-up on
                # the first document, which would otherwise be a request.
                _nlp("FINDINGS: No double line sign. Bone marrow edema of the left femoral head.")


def read(text: str | None) -> Reading:
    """Mentions in `text` (cached by content hash; empty text gives an empty reading)."""
    if not text or not text.strip():
        return Reading()
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    warm()
    truncated = len(text) > MAX_TEXT_CHARS
    mentions: list[Mention] = []
    with _lock:  # spaCy pipelines are not documented as thread-safe
        section = None
        for chunk in chunks(_break_runs(text[:MAX_TEXT_CHARS] if truncated else text)):
            _checkpoint("reading report text")  # the request's deadline, if one is set
            if len(mentions) >= MAX_MENTIONS:
                truncated = True  # no report says this much: the rest is not read
                break
            doc = _process(chunk)
            mentions += doc_mentions(doc, _section_status, section)
            section = last_section(doc, section)
        mentions = mentions[:MAX_MENTIONS]
        reading = Reading(tuple(mentions), truncated)
        _remember(key, reading)
    return reading


def _process(text: str):
    """Run the pipeline, the text kept on the doc (`Doc.text` re-joins every token)."""
    doc = _nlp.make_doc(text)
    doc.user_data["text"] = text
    for _name, component in _nlp.pipeline:
        doc = component(doc)
    return doc


def _break_runs(text: str) -> str:
    """A space after every MAX_RUN characters of a run without one. spaCy's tokenizer
    splits punctuation off a token one piece at a time, so a 50,000-character run of
    "a:a:a:..." took 3 s and of brackets 6 s; no report word is that long."""
    return _LONG_RUN.sub(lambda m: m.group(0) + " ", text) if len(text) > MAX_RUN else text


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """`text` in pieces of at most `size` characters, cut at a line break, else after a
    sentence, else at a space. ConText compares every modifier of a document with every
    finding of it, so one long document costs the square of its length; sentences never
    span a cut, so the reading is the same."""
    out: list[str] = []
    while len(text) > size:
        window = text[:size]
        cut = window.rfind("\n", size // 2)
        if cut < 0:
            cut = max(window.rfind(". ", size // 2) + 1, window.rfind(" ", size // 2))
        if cut <= 0:
            cut = size
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


def set_checkpoint(check: Callable[[str], None] | None) -> None:
    """Call `check(stage)` before each piece of text is read: the service passes its
    per-request deadline check, which raises to end a request past its time."""
    global _checkpoint
    _checkpoint = check or _no_checkpoint


def _clear_cache() -> None:
    global _cached_mentions
    _cache.clear()
    _cached_mentions = 0


def _remember(key: str, reading: Reading) -> None:
    """Cache a reading; the cache is bounded by entries and by findings held in all."""
    global _cached_mentions
    _cache[key] = reading
    _cached_mentions += len(reading.mentions)
    while _cache and (len(_cache) > _CACHE_SIZE or _cached_mentions > MAX_CACHED_MENTIONS):
        _, dropped = _cache.popitem(last=False)
        _cached_mentions -= len(dropped.mentions)


def cache_size() -> int:
    return len(_cache)


def mentions_in(doc) -> list[Mention]:
    """The mentions of a document this module's pipeline has processed."""
    return list(doc_mentions(doc, _section_status))
