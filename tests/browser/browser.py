"""Debian's chromium, headless, driven by Playwright (Python), with a fresh profile.

Playwright's own browser download does not work here: the system executable is used.
When it is missing the tests fail with one line saying how to install it (they never
skip: CI installs it, see scripts/test)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

CHROMIUM = os.environ.get("CDS_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 960}


def chromium_problem() -> str | None:
    """None when the chromium executable is there, else the one-line reason."""
    if Path(CHROMIUM).is_file() or shutil.which(CHROMIUM):
        return None
    return (f"chromium is not installed at {CHROMIUM} (setting CDS_TEST_CHROMIUM); "
            "as root: apt-get install chromium (scripts/test does it when run as root)")


@contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """A browser context on a fresh user-data dir (the `profile` folder)."""
    problem = chromium_problem()
    if problem:
        pytest.fail(problem)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
        try:
            yield context
        finally:
            context.close()
