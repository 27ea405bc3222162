"""Read radiology and problem-list text with medspaCy (sectionizer, target matcher, ConText).

Why medspaCy: negation, uncertainty and history decide this service ("no double line
sign", "AVN cannot be excluded", "bone marrow oedema has resolved"); ConText is the
field's standard and its sectionizer tells the clinical question from the findings,
offline. The words come from `hooks/vocabulary/` (see vocabulary.py). A `TextReader` is
built from one vocabulary (the app builds one per worker, `create_app`); its pipeline
loads once per process and vocabulary (`warm()` at worker start, else on first use) and
readings are kept in the cache it is given, by a SHA-256 of the text, so the same report
is never read twice.

Work is bounded whatever the text: it is read up to MAX_TEXT_CHARS, in pieces of at
most CHUNK_CHARS, and no further once MAX_MENTIONS findings are read (the reading says
it was cut); no sentence is longer than sentences.MAX_SENTENCE_TOKENS, and ConText runs
sentence by sentence (targeted_context.py), so its pairwise work stays linear.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds_service.clinical import text_rules as tr
from cds_service.clinical import vocabulary as vocab
from cds_service.clinical.phrase_rules import compile_rules
from cds_service.clinical.targeted_context import TargetedConText, gate_token_patterns
from cds_service.clinical.text_mentions import Mention, Reading, doc_mentions, last_section
from cds_service.clinical.tokenizer_cache import cache_past_line_breaks
from cds_service.lru import BoundedLru
from cds_service.resources import vocabulary_dir

__all__ = ["Mention", "Reading", "TextReader", "default_reader", "reading_cache"]

DEFAULT_VOCABULARY = vocabulary_dir()  # the package's own (cds_service/hooks/vocabulary)
MAX_TEXT_CHARS = 50_000  # a long hip MRI report is ~5,000 characters
CHUNK_CHARS = 4_000  # read in pieces of this size at most (see chunks())
MAX_MENTIONS = 400  # findings read from one text at most (a real report has < 50)
MAX_RUN = 100  # characters without a space before one is put in (see _break_runs)
READING_CACHE_SIZE = 2048  # readings kept
MAX_CACHED_MENTIONS = 100_000  # the reading cache holds at most this many findings in all
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN}}}(?=\S)")
WARM_TEXT = "FINDINGS: No double line sign. Bone marrow edema of the left femoral head."

Checkpoint = Callable[[str], None]


def reading_cache(size: int = READING_CACHE_SIZE,
                  max_mentions: int = MAX_CACHED_MENTIONS) -> BoundedLru[Reading]:
    """Readings by text digest, bounded by entries and by the findings they hold."""
    return BoundedLru(size, max_mentions)


def _no_checkpoint(stage: str) -> None:
    return None


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


def build_pipeline(vocabulary: vocab.Vocabulary, compiled: bool = True) -> Any:
    """The reading pipeline; `compiled=False` keeps medspaCy's default rules as token
    patterns (tests compare the two)."""
    import medspacy

    _silence_logging()
    from cds_service.clinical import sections, sentences  # noqa: F401  (register components)
    from cds_service.clinical.entities import TARGETS  # (registers "targets_as_entities")

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


@dataclass(frozen=True)
class LoadedPipeline:
    """A warmed pipeline and the lock its users share (spaCy pipelines are not documented
    as thread-safe)."""

    nlp: Any
    lock: threading.Lock


_loading = threading.Lock()


@functools.lru_cache(maxsize=8)
def loaded_pipeline(vocabulary: vocab.Vocabulary, compiled: bool = True) -> LoadedPipeline:
    """The pipeline of a vocabulary, built once per process: it is a pure function of the
    rule files and the costliest object of a worker (seconds, ~100 MB), so the readers of
    one vocabulary (one per app; tests build many apps) share it."""
    nlp = build_pipeline(vocabulary, compiled)
    # One text through every component: spaCy finishes its lazy set-up on the first
    # document, which would otherwise be a request.
    nlp(WARM_TEXT)
    return LoadedPipeline(nlp, threading.Lock())


class TextReader:
    """Reads text with one vocabulary. `cache`: where readings are kept (a BoundedLru;
    a zero-bounded one keeps none); `checkpoint(stage)` is called before each piece of
    text is read: the service passes its per-request deadline check, which raises to end
    a request past its time."""

    def __init__(self, vocabulary: vocab.Vocabulary, cache: BoundedLru[Reading] | None = None,
                 checkpoint: Checkpoint = _no_checkpoint, compiled: bool = True) -> None:
        self.vocabulary = vocabulary
        self.cache = cache if cache is not None else reading_cache()
        self._checkpoint = checkpoint
        self._compiled = compiled
        self._section_status = vocabulary.section_status()
        self._loaded: LoadedPipeline | None = None

    @classmethod
    def from_folder(cls, folder: Path, **options: Any) -> TextReader:
        """A reader of the vocabulary in `folder`, checked now (VocabularyError names the
        file and entry)."""
        return cls(vocab.load(folder), **options)

    @property
    def nlp(self) -> Any:
        """The loaded pipeline (loaded now if it was not)."""
        return self._pipeline().nlp

    def warm(self) -> None:
        """Load the pipeline now (call at worker start so the first request is not slow)."""
        self._pipeline()

    def _pipeline(self) -> LoadedPipeline:
        if self._loaded is None:
            with _loading:
                self._loaded = loaded_pipeline(self.vocabulary, self._compiled)
        return self._loaded

    def read(self, text: str | None) -> Reading:
        """Mentions in `text` (kept by content hash; empty text gives an empty reading)."""
        if not text or not text.strip():
            return Reading()
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        loaded = self._pipeline()
        truncated = len(text) > MAX_TEXT_CHARS
        mentions: list[Mention] = []
        with loaded.lock:
            section = None
            for chunk in chunks(_break_runs(text[:MAX_TEXT_CHARS] if truncated else text)):
                self._checkpoint("reading report text")  # the request's deadline, if set
                if len(mentions) >= MAX_MENTIONS:
                    truncated = True  # no report says this much: the rest is not read
                    break
                doc = _process(loaded.nlp, chunk)
                mentions += doc_mentions(doc, self._section_status, section)
                section = last_section(doc, section)
        reading = Reading(tuple(mentions[:MAX_MENTIONS]), truncated)
        self.cache.put(key, reading, len(reading.mentions))
        return reading

    def process(self, text: str) -> Any:
        """The processed document of `text` (no cache, no bounds: tests and tools)."""
        loaded = self._pipeline()
        with loaded.lock:
            return _process(loaded.nlp, text)

    def mentions_in(self, doc: Any) -> list[Mention]:
        """The mentions of a document this reader's pipeline has processed."""
        return list(doc_mentions(doc, self._section_status))


@functools.cache
def default_reader() -> TextReader:
    """A reader of the package's own vocabulary, for callers without a service (unit
    tests, library use). The service builds its own in `create_app`, from its hooks."""
    return TextReader.from_folder(DEFAULT_VOCABULARY)


def _process(nlp: Any, text: str) -> Any:
    """Run the pipeline, the text kept on the doc (`Doc.text` re-joins every token)."""
    doc = nlp.make_doc(text)
    doc.user_data["text"] = text
    for _name, component in nlp.pipeline:
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
