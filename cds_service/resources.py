"""Where the files shipped inside the package are: found through importlib.resources,
so an installed wheel finds them as a checkout does (never `parents[n]` of a module)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _folder(*parts: str) -> Path:
    """A folder of the package on disk: the loaders and Flask read files from folders."""
    folder = resources.files("cds_service").joinpath(*parts)
    if isinstance(folder, Path):
        return folder
    raise RuntimeError(f"cds_service/{'/'.join(parts)} is not a folder on disk "
                       f"(a zipped install?): {folder!r}")


def hooks_dir() -> Path:
    """The shipped hooks folder (`cds_service/hooks/`: services, triggers, vocabulary);
    `[service] hooks_dir` replaces it with an informaticist's own."""
    return _folder("hooks")


def vocabulary_dir(hooks: Path | None = None) -> Path:
    """The reading vocabulary (docs/vocabulary.md) of a hooks folder, by default the
    shipped one."""
    return (hooks or hooks_dir()) / "vocabulary"


def smart_static_dir() -> Path:
    """The SMART app's pages and bundle (`cds_service/static/smart/`), which Flask serves
    from a folder."""
    return _folder("static", "smart")
