"""A unique key prefix on the real Redis, cleaned up afterwards (shared by the
security and reliability suites)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis


@contextmanager
def unique_redis_prefix(url: str, tag: str) -> Iterator[str]:
    """Yield `<tag>:<uuid>:`; every key under it is deleted on exit. Fails (never
    skips) when Redis is not there: these tests must run for real."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"real Redis needed at {url}: {exc}")
    prefix = f"{tag}:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
