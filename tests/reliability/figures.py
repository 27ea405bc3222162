"""Figures for the closing note (tokens refused, fuzz cases, items lost...), filled by the
tests and printed at the end of the run by conftest.pytest_terminal_summary."""

from __future__ import annotations

FIGURES: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    FIGURES[name] = FIGURES.get(name, 0) + n
    print(f"{name}: {FIGURES[name]}")
