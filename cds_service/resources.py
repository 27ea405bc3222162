"""Where the files shipped inside the package are: found through importlib.resources,
so an installed wheel finds them as a checkout does (never `parents[n]` of a module)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def hooks_dir() -> Path:
    """The shipped hooks folder (`cds_service/hooks/`: services, triggers, vocabulary);
    `[service] hooks_dir` replaces it with an informaticist's own."""
    folder = resources.files("cds_service") / "hooks"
    if not isinstance(folder, Path):  # a zipped install: the loaders need real files
        raise RuntimeError(f"cds_service/hooks is not a folder on disk ({folder!r})")
    return folder


def vocabulary_dir() -> Path:
    """The shipped reading vocabulary (docs/vocabulary.md)."""
    return hooks_dir() / "vocabulary"


def smart_static_dir() -> Path:
    """The SMART app's pages and bundle (`cds_service/static/smart/`), which Flask serves
    from a folder."""
    folder = resources.files("cds_service") / "static" / "smart"
    if not isinstance(folder, Path):  # a zipped install: Flask serves files from a folder
        raise RuntimeError(f"cds_service/static/smart is not a folder on disk ({folder!r})")
    return folder
