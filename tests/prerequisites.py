"""The real services the tests need, where they are, and a check that stops the run with
one line per missing service naming it and its setting. These tests run for real: a
missing service fails the run, it never skips tests.

| service    | setting            | default                                   | used by        |
|------------|--------------------|-------------------------------------------|----------------|
| PostgreSQL | CDS_TEST_PG_ADMIN  | postgresql://postgres@127.0.0.1:5432/test | reliability/   |
| Redis      | CDS_TEST_REDIS_URL | redis://127.0.0.1:6379/0                  | reliability/, security/ |

The PostgreSQL role must be allowed to CREATE DATABASE (each test gets its own database).
tests/reliability/conftest.py and tests/security/security_support.py read the same
settings with the same defaults.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

PG_ADMIN = os.environ.get("CDS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HINT = "see the README's Prerequisites (apt-get install postgresql redis-server)"
TESTS = Path(__file__).resolve().parent


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def postgres_problem(url: str | None = None) -> str | None:
    """None when PostgreSQL accepts a connection at ``url``, else the one-line reason."""
    import psycopg

    url = url or PG_ADMIN
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return (f"PostgreSQL is not reachable at {url} (setting CDS_TEST_PG_ADMIN): "
                f"{_first_line(exc)}; {HINT}")


def redis_problem(url: str | None = None) -> str | None:
    """None when Redis answers PING at ``url``, else the one-line reason."""
    import redis

    url = url or REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return (f"Redis is not reachable at {url} (setting CDS_TEST_REDIS_URL): "
                f"{_first_line(exc)}; {HINT}")
    finally:
        client.close()


# service: (check, the test folders that need it)
SERVICES: dict[str, tuple[Callable[[], str | None], tuple[str, ...]]] = {
    "PostgreSQL": (postgres_problem, ("reliability",)),
    "Redis": (redis_problem, ("reliability", "security")),
}


def needed(paths: Iterable[Path]) -> list[str]:
    """The services that tests in these files need (by the test folder they are in)."""
    folders = {p.resolve().relative_to(TESTS).parts[0] for p in paths
               if TESTS in p.resolve().parents}
    return [name for name, (_, users) in SERVICES.items() if folders & set(users)]


def problems(paths: Iterable[Path]) -> list[str]:
    """One line per service these tests need that does not answer."""
    found = (SERVICES[name][0]() for name in needed(paths))
    return [line for line in found if line]
