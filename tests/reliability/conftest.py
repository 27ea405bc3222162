"""Fixtures for the reliability tests: keys, a live service factory, a throwaway
PostgreSQL database, a Redis key prefix; the figures are printed in the summary."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.redis_support import unique_redis_prefix
from tests.reliability.figures import FIGURES
from tests.reliability.live import LiveService
from tests.reliability.tokens import Keys, make_keys

PG_ADMIN = os.environ.get("CDS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="session")
def keys() -> Keys:
    return make_keys()


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """``live_service(config, name=...)``: a started service, stopped after the test."""
    started: list[LiveService] = []

    def start(config: dict, name: str = "service", **kwargs: Any) -> LiveService:
        service = LiveService(tmp_path / name, config, **kwargs)
        started.append(service)
        return service.start()

    yield start
    for service in started:
        service.stop()


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    name = f"cds_rel_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"real PostgreSQL needed at {PG_ADMIN}: {exc}")
    host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{host}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A unique key prefix on the real Redis; its keys are deleted afterwards."""
    with unique_redis_prefix(REDIS_URL, "cds-rel") as prefix:
        yield prefix
