"""Fixtures for the deployment tests: keys, a throwaway PostgreSQL database, a Redis key
prefix, and nginx (Debian's package, installed by .ci/run). A missing piece fails the
test with one line naming it: these tests run for real, they never skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.redis_support import unique_redis_prefix
from tests.reliability.tokens import Keys, make_keys

PG_ADMIN = os.environ.get("CDS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def keys() -> Keys:
    return make_keys()


@pytest.fixture(scope="session")
def nginx_binary() -> None:
    from tests.deploy.cluster import nginx_problem

    problem = nginx_problem()
    if problem is not None:
        pytest.fail(problem)


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (SQLAlchemy URL), dropped afterwards."""
    name = f"cds_deploy_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"real PostgreSQL needed at {PG_ADMIN} (setting CDS_TEST_PG_ADMIN): {exc}")
    host = PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{host}/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix on the real Redis; its keys are deleted afterwards."""
    with unique_redis_prefix(REDIS_URL, "cds-deploy") as prefix:
        yield prefix
