"""The committed bundle is what web/ builds: the app the service serves is the source
under review (no CDN, no stale build). Rebuilds with the pinned esbuild from web/'s
lockfile into a temporary folder and compares the bytes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ASSETS = ROOT / "cds_service" / "static" / "smart" / "assets"

pytestmark = pytest.mark.integration


def _node_modules() -> None:
    """`npm ci` in web/ when scripts/test has not run it (a fresh clone)."""
    if (WEB / "node_modules" / "esbuild-wasm").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("web/node_modules missing and npm not on PATH (Node.js 20+ needed)")
    subprocess.run([npm, "ci", "--prefix", str(WEB), "--omit=optional", "--no-audit",
                    "--no-fund"], check=True, capture_output=True, timeout=600)


def test_committed_bundle_matches_the_source(tmp_path: Path) -> None:
    _node_modules()
    node = shutil.which("node")
    assert node, "node not on PATH"
    subprocess.run([node, str(WEB / "build.mjs"), "--outdir", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    for name in ("launch.js", "app.js"):
        assert (tmp_path / name).read_bytes() == (ASSETS / name).read_bytes(), (
            f"{ASSETS / name} is stale: run `npm ci --prefix web && npm run build --prefix web`")
    assert b"cdn." not in (ASSETS / "app.js").read_bytes()
