"""What the gunicorn master loads once, before it forks the workers.

The NLP pipeline (spaCy/medspaCy with the hooks' vocabulary) and the FHIR model classes
with their pydantic validators are most of a worker's memory and of its start-up time,
and they never change after start. Loaded in the master, the forked workers share those
pages copy-on-write instead of each building its own copy. Two things keep the pages
shared: `gc.freeze()` just before each fork moves everything loaded so far out of the
collector's generations, so a collection in a worker never writes to (and so never
copies) those objects' headers; and nothing loaded here holds a socket, a thread, a lock
in use or a database or Redis connection, which a fork would duplicate: the app itself
(engine, FHIR session, thread pools, authenticator) is built by each worker after the
fork, from modules that are imported by then (`cds_service.serve`).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import sys
import threading
import types
from typing import Any

from cds_service.config import Settings
from cds_service.resources import vocabulary_dir

log = logging.getLogger(__name__)

# Python's default (700, 10, 10) runs a full collection every few hundred thousand
# allocations; decoding one 3 MB prefetch allocates ~300,000 dicts and lists, and each
# full pass then walked every long-lived object of the worker (spaCy, the FHIR model
# classes, cached models): ~100 ms of a heavy request went to it. Request data is freed
# by reference counting (JSON trees and models hold no cycles), so rarer collections
# cost little memory. Process-wide, so set once at server start (inherited by the fork).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Collect cyclic garbage less often (see GC_THRESHOLDS); idempotent."""
    if gc.get_threshold() != GC_THRESHOLDS:
        gc.set_threshold(*GC_THRESHOLDS)


class _RunsOnFirstLookup(types.ModuleType):
    """A module registered unexecuted: its code (its package's first) runs when a name it
    does not have yet is first looked up, and it is a plain module from then on."""

    def __getattr__(self, name: str) -> Any:
        _run(self)
        return getattr(self, name)


def _run(module: types.ModuleType) -> None:
    if type(module) is not _RunsOnFirstLookup:
        return
    spec = module.__spec__
    assert spec is not None and spec.loader is not None
    module.__class__ = types.ModuleType
    parent = sys.modules.get(spec.parent) if spec.parent else None
    if parent is not None:
        _run(parent)
    spec.loader.exec_module(module)


def _unexecuted(name: str) -> types.ModuleType | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _RunsOnFirstLookup
    sys.modules[name] = module
    return module


def defer_quickumls() -> None:
    """medspaCy imports QuickUMLS's spaCy component when it is imported, for a pipeline
    component the service never enables (`medspacy_quickumls`), and QuickUMLS imports
    NLTK: ~0.2 s of start-up and ~17 MB. Both are left unloaded until something uses
    them: `quickumls` and `quickumls.spacy_component` are registered unexecuted, so
    `from quickumls import spacy_component` costs nothing and any use of a name in them
    loads them as usual. Call before medspaCy is imported; without QuickUMLS, nothing."""
    if "quickumls" in sys.modules or "medspacy" in sys.modules:
        return
    package = _unexecuted("quickumls")
    if package is None:
        return
    component = _unexecuted("quickumls.spacy_component")
    if component is None:
        del sys.modules["quickumls"]
        return
    object.__setattr__(package, "spacy_component", component)


def preload(settings: Settings) -> None:
    """Import the service and load what every worker shares: the hooks' catalog is read
    (its vocabulary checked), the model classes of the
    prefetched resource types built, the NLP pipeline loaded and run once."""
    defer_quickumls()
    from cds_service.app import create_app  # noqa: F401  (imports what the workers use)
    from cds_service.clinical.text_reader import TextReader
    from cds_service.fhir.record import preload_models
    from cds_service.pipeline import prefetched_types
    from cds_service.services.definitions import load_catalog
    from cds_service.services.handlers import HANDLERS

    catalog = load_catalog(settings.service.hooks_dir, known_handlers=set(HANDLERS),
                           extra_triggers=settings.service.extra_triggers)
    preload_models(prefetched_types(catalog))
    # the pipeline is kept per process and vocabulary: the workers' readers find it
    TextReader.from_folder(vocabulary_dir(settings.service.hooks_dir)).warm()
    tune_gc()
    gc.collect()  # what start-up left behind is not frozen with the rest


def freeze_before_fork(_arbiter: Any, _worker: Any) -> None:
    """gunicorn `pre_fork` hook (in the master): what exists now is never collected, so
    the worker about to be forked shares it without copying pages for the collector.
    A thread in the master would not survive the fork (and a lock it holds would stay
    held in the worker): none is started before it, and one that is gets logged."""
    if threading.active_count() > 1:
        log.warning("threads_before_fork", extra={"threads": threading.active_count()})
    gc.freeze()
