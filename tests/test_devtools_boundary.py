"""The running service never imports the dev tools: `cds_service.devtools` is for the
tests, `bench/` and the CLI's dev subcommands, which import it inside the command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cds_service

PACKAGE = Path(cds_service.__file__).parent
SERVICE_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "devtools" not in p.parts)


def _devtools_imports(tree: ast.AST, top_level_only: bool) -> list[str]:
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("cds_service.devtools")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [n for n in names if n.startswith("cds_service.devtools")]
    return found


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_service_modules_do_not_import_devtools(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # the CLI's dev subcommands may, inside the function that runs them
    imports = _devtools_imports(tree, top_level_only=path.name == "cli.py")
    assert not imports, f"{path.relative_to(PACKAGE)} imports {imports}"


def test_building_the_app_loads_no_devtools(tmp_path: Path) -> None:
    code = ("import sys; from cds_service.app import create_app; "
            "from cds_service.config import Settings; "
            f"create_app(Settings(store={{'url': 'sqlite:///{tmp_path / 'store.db'}'}})); "
            "print(sorted(m for m in sys.modules if m.startswith('cds_service.devtools')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
