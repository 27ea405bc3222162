"""The clinical package stays pure: no web framework, no HTTP client, no I/O libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cds_service.clinical as clinical

FORBIDDEN = ("flask", "requests", "httpx", "urllib", "http", "socket", "sqlalchemy", "redis")
MODULES = sorted(Path(clinical.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300
