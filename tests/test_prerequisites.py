"""A missing PostgreSQL or Redis stops the run before any test, with one line naming the
service and its setting (tests/prerequisites.py); it never turns into skips."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prerequisites import TESTS, needed, postgres_problem, redis_problem


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_unreachable_postgres_is_one_line_naming_the_setting(closed_port: int) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port}/test"
    problem = postgres_problem(url)
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"PostgreSQL is not reachable at {url} (setting CDS_TEST_PG_ADMIN)")


def test_unreachable_redis_is_one_line_naming_the_setting(closed_port: int) -> None:
    url = f"redis://127.0.0.1:{closed_port}/0"
    problem = redis_problem(url)
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"Redis is not reachable at {url} (setting CDS_TEST_REDIS_URL)")


def test_services_needed_by_folder() -> None:
    assert needed([TESTS / "test_templates.py"]) == []
    assert needed([TESTS / "security" / "test_replay_guard.py"]) == ["Redis"]
    assert needed([TESTS / "reliability" / "test_pg_store.py"]) == ["PostgreSQL", "Redis"]


def test_the_run_stops_before_any_test_when_redis_is_missing(closed_port: int) -> None:
    env = {**os.environ, "CDS_TEST_REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/security/test_replay_guard.py"],
        cwd=Path(TESTS).parent, env=env, capture_output=True, text=True, timeout=120,
        check=False)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert f"Redis is not reachable at redis://127.0.0.1:{closed_port}/0 (setting " \
           "CDS_TEST_REDIS_URL)" in output
    assert " passed" not in output and " skipped" not in output and " failed" not in output
