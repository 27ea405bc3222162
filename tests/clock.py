"""The tests' clock: one fixed instant, so that no result depends on the day or the hour
the suite runs. The in-process app reads it (tests/conftest.py passes it to create_app)
and fixture requests are rebased to its date."""

from __future__ import annotations

from datetime import UTC, datetime

FIXED_NOW = datetime(2026, 11, 20, 9, 30, 5, tzinfo=UTC)
TODAY = FIXED_NOW.date()


def fixed_clock() -> datetime:
    """The app's clock in tests: always FIXED_NOW."""
    return FIXED_NOW
