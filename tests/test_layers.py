"""The import contract between the package's layers, read from the source (AST, no import).

Dependencies point one way: the top (app, routes, pipeline, the command-line tools) may
import anything; the pages and configuration sit above the service layer; the service
layer (services/, prefetch/, wire/) sits above the clinical core; clinical/ imports only
the record (fhir/), where the package's files are (resources.py), the bounded LRU and
plain libraries, never a web framework, an HTTP client or a database; fhir/, security/
and store/ at the edges never import the service layer or the top. A package not in the
table fails until it is placed in it, and a name in the table that is gone fails too. An
import under `if TYPE_CHECKING:` or inside a function counts like any other: it is still
a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import cds_service

ROOT = Path(cds_service.__file__).parent
ANYTHING = frozenset({"*"})
# Shared by every layer: the error tree, limits, logs, redaction, where the files shipped
# in the package are (resources.py, importlib only) and the bounded LRU (lru.py). The
# clinical core takes only the last two of these (CLINICAL_BASE).
BASE = frozenset({"errors", "limits", "logs", "redact", "resources", "lru"})
CLINICAL_BASE = frozenset({"resources", "lru"})
# Each top-level package or module of cds_service -> what it may import besides itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    # The top: entry points and the app's assembly.
    "app": ANYTHING, "routes": ANYTHING, "pipeline": ANYTHING, "cli": ANYTHING,
    "serve": ANYTHING, "preload": ANYTHING, "http_worker": ANYTHING, "migrate_cli": ANYTHING,
    "read_cli": ANYTHING, "report": ANYTHING, "config_check": ANYTHING,
    "devtools": ANYTHING,
    # Pages and configuration, above the service layer.
    "config": BASE | {"services", "clinical", "fhir", "security"},
    "caching": BASE | {"services", "clinical", "fhir"},  # the caches' seam, built in create_app
    "openapi": BASE | {"services", "wire"},
    "rules_page": BASE | {"services", "clinical"},
    "timeline": BASE | {"services", "prefetch", "wire", "clinical", "fhir"},
    # The service layer: hook calls in, cards out, around the clinical core. services/ and
    # prefetch/ are one layer: a handler's descriptor declares its reads (prefetch/reads.py),
    # prefetch fills them for a service definition (services/definitions.py).
    "services": BASE | {"prefetch", "wire", "clinical", "fhir"},
    "prefetch": BASE | {"services", "wire", "fhir"},
    "wire": BASE,
    # The clinical core: the record in, an assessment and its evidence out.
    "clinical": CLINICAL_BASE | {"fhir"},
    # The edges.
    "fhir": BASE | {"security"},
    "security": BASE,
    "store": BASE | {"wire"},
    "migrations": BASE | {"store"},
    # The shared base.
    "errors": frozenset(),
    "limits": frozenset({"errors"}),
    "logs": frozenset({"redact"}),
    "redact": frozenset(),
    "resources": frozenset(),
    "lru": frozenset(),
    "__init__": frozenset(),
}
IO_LIBRARIES = ("flask", "requests", "httpx", "urllib", "http", "socket", "sqlalchemy", "redis")
MAX_LINES = 300
MODULES = sorted(ROOT.rglob("*.py"))


def _label(path: Path) -> str:
    return str(path.relative_to(ROOT.parent))


def _package(path: Path) -> str:
    """The top-level package or module of cds_service a file belongs to."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> Iterator[str]:
    """Every module the file imports (`from a import b`: a, and a.b when b is a module),
    relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module(path) if path.name == "__init__.py" else _module(path)[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names
                        if _is_module(f"{base}.{alias.name}"))


def internal_target(name: str) -> str | None:
    """The top-level package of cds_service an imported module lies in; None for another
    library or the package root itself (its version, importable by all)."""
    parts = name.split(".")
    if parts[0] != "cds_service" or len(parts) == 1:
        return None
    return parts[1]


@pytest.mark.parametrize("path", MODULES, ids=_label)
def test_imports_follow_the_layers(path: Path) -> None:
    own = _package(path)
    assert own in MAY_IMPORT, (
        f"{_label(path)}: package {own!r} is in no layer; add it to MAY_IMPORT in "
        "tests/test_layers.py")
    allowed = MAY_IMPORT[own]
    if allowed == ANYTHING:
        return
    for name in imports(path):
        target = internal_target(name)
        if target is None or target == own:
            continue
        assert target in allowed, (
            f"{_label(path)} imports {name}: {own}/ may import only "
            f"{', '.join(sorted(allowed)) or 'nothing else of cds_service'} "
            "(MAY_IMPORT in tests/test_layers.py)")


CLINICAL = sorted((ROOT / "clinical").rglob("*.py"))


@pytest.mark.parametrize("path", CLINICAL, ids=_label)
def test_clinical_core_does_no_io(path: Path) -> None:
    for name in imports(path):
        assert name.split(".")[0] not in IO_LIBRARIES, f"{_label(path)} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=_label)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{_label(path)} has {lines} lines, over {MAX_LINES}"


def test_the_table_names_only_what_exists() -> None:
    present = {_package(path) for path in MODULES}
    named = set(MAY_IMPORT) | {name for allowed in MAY_IMPORT.values() for name in allowed}
    stale = named - present - ANYTHING
    assert not stale, f"MAY_IMPORT in tests/test_layers.py names what is gone: {sorted(stale)}"

