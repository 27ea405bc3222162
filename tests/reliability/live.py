"""A real service process for the reliability tests: `cds-service serve` under gunicorn
on a free loopback port, configured by a TOML file written to a temporary folder.

`running(workdir, config)` starts it, waits for /healthz and stops it by PID; `kill()`
sends SIGKILL to the whole process group (gunicorn master and workers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

CDS_SERVICE = Path(sys.executable).with_name("cds-service")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def to_toml(config: dict[str, dict[str, Any]]) -> str:
    """Sections of scalars and inline values; a list of dicts becomes [[section.key]] tables."""
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        tables = {k: v for k, v in values.items()
                  if isinstance(v, list) and v and isinstance(v[0], dict)}
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if k not in tables]
        for key, items in tables.items():
            for item in items:
                lines.append(f"[[{section}.{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


class LiveService:
    """One `cds-service serve` process (a gunicorn master with its workers)."""

    def __init__(self, workdir: Path, config: dict[str, dict[str, Any]], port: int | None = None,
                 workers: int = 2) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        service = config.setdefault("service", {})
        service.setdefault("public_base_url", self.base_url)
        self.public_base_url: str = service["public_base_url"]
        self.config = config
        self.workers = workers
        self.stderr_path = workdir / "stderr.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return self.base_url + path

    def aud(self, path: str) -> str:
        """The JWT audience the service expects for a POST to ``path``."""
        return self.public_base_url + path

    def start(self) -> LiveService:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "config.toml"
        config_path.write_text(to_toml(self.config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
        with open(self.workdir / "stdout.log", "ab") as out, open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [str(CDS_SERVICE), "--config", str(config_path), "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers)],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        code = self.process.returncode
        pytest.fail(f"service did not start (exit {code}):\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers); SIGKILL to the group if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group at once: no worker gets to finish anything."""
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON log lines (non-JSON lines are skipped here; see test_log_phi)."""
        entries = []
        for line in self.log().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


def start_refused(workdir: Path, config: dict[str, dict[str, Any]], workers: int = 2,
                  timeout: float = 15.0) -> tuple[int, str]:
    """Run `serve` expecting it to refuse to start: (exit code, stderr). A service that
    starts instead is killed (whole group) and the test fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    process = subprocess.Popen(
        [str(CDS_SERVICE), "--config", str(path), "serve", "--host", "127.0.0.1",
         "--port", str(free_port()), "--workers", str(workers)],
        cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"the service started (still running after {timeout}s) instead of refusing")
    return process.returncode, stderr


@contextmanager
def running(workdir: Path, config: dict[str, dict[str, Any]],
            **kwargs: Any) -> Iterator[LiveService]:
    service = LiveService(workdir, config, **kwargs)
    try:
        yield service.start()
    finally:
        service.stop()
