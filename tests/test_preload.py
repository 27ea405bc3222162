"""What the gunicorn master loads before forking (cds_service/preload.py). Each check
runs in a fresh interpreter: what a process has imported cannot be undone in this one."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_fresh(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_quickumls_and_nltk_wait_until_used() -> None:
    """medspaCy imports QuickUMLS (and NLTK) eagerly for a component the service never
    enables: deferred, the reader works without them, and a use still loads them."""
    out = run_fresh("""
        import sys
        from cds_service.preload import defer_quickumls
        defer_quickumls()
        from cds_service.clinical import text_reader
        reading = text_reader.default_reader().read("No double line sign. Bone marrow edema of the femoral head.")
        print(sorted(m.concept for m in reading.mentions))
        print("nltk" in sys.modules, "quickumls.core" in sys.modules)
        from quickumls import spacy_component
        print(spacy_component.SpacyQuickUMLS.__name__, "nltk" in sys.modules)
    """)
    assert out.splitlines() == ["['AVN', 'BME']", "False False", "SpacyQuickUMLS True"]


def test_preload_tunes_the_collector_and_loads_the_reader() -> None:
    out = run_fresh("""
        import gc
        from cds_service.config import Settings
        from cds_service.clinical import text_reader
        from cds_service.preload import GC_THRESHOLDS, preload
        preload(Settings())
        print(gc.get_threshold() == GC_THRESHOLDS,
              text_reader.loaded_pipeline.cache_info().currsize == 1)
    """)
    assert out.split() == ["True", "True"]
