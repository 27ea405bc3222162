"""Every cache of the hook path, built in one place and handed to the code that uses it.

Speed lives here, not in the domain: `create_app` builds one `Caches` from the settings
and passes each part down (the pipeline parses and keeps records through `models` and
`records`, the service logic derives facts through `derived`, the text reader keeps its
readings in `readings`, repeated calls reuse `decisions`). Domain code takes the part
it needs as a parameter and works the same without it: `Caches.disabled()` keeps
nothing, and the fixture tests compare the cards of both.

Outside the seam stay only memos of pure functions whose answer depends on their
argument alone, so caching cannot change it: anatomy's site and side words of a sentence
and text_mentions' section headings (bounded `functools.lru_cache`s of short texts), the
prefetch template parser, and the reading pipeline built from a vocabulary
(`text_reader.loaded_pipeline`: the costliest object of a worker, shared by its readers).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.clinical.text_mentions import Reading
from cds_service.clinical.text_reader import MAX_CACHED_MENTIONS, READING_CACHE_SIZE, reading_cache
from cds_service.fhir.caches import (
    DERIVED_CACHE_SIZE,
    MODEL_CACHE_SIZE,
    RECORD_CACHE_SIZE,
    DerivedCache,
    ModelCache,
    RecordCache,
)
from cds_service.lru import BoundedLru
from cds_service.services.decisions import DECISION_CACHE_BYTES, DECISION_CACHE_SIZE, DecisionCache

MB = 1024 * 1024


@dataclass(frozen=True)
class Caches:
    """The worker's caches: parsed models, whole records, values derived from them, text
    readings and decided cards. The three caches of parsed FHIR data share
    `[service] cache_mb`, a third each (they share models, so together they pin at most
    that much)."""

    models: ModelCache
    records: RecordCache
    derived: DerivedCache
    readings: BoundedLru[Reading]
    decisions: DecisionCache

    @classmethod
    def sized(cls, cache_mb: int) -> Caches:
        """Caches for a worker whose parsed FHIR data may hold `cache_mb` in all."""
        each = max(1, cache_mb * MB // 3)
        return cls(
            models=ModelCache(MODEL_CACHE_SIZE, each),
            records=RecordCache(RECORD_CACHE_SIZE, each),
            derived=DerivedCache(DERIVED_CACHE_SIZE, each),
            readings=reading_cache(READING_CACHE_SIZE, MAX_CACHED_MENTIONS),
            decisions=DecisionCache(DECISION_CACHE_SIZE, DECISION_CACHE_BYTES),
        )

    @classmethod
    def disabled(cls) -> Caches:
        """Caches that keep nothing: every call computes everything afresh."""
        return cls(models=ModelCache(0, 0), records=RecordCache(0, 0),
                   derived=DerivedCache(0, 0), readings=reading_cache(0, 0),
                   decisions=DecisionCache(0, 0))

    def clear(self) -> None:
        for part in (self.models, self.records, self.derived, self.readings, self.decisions):
            part.clear()
