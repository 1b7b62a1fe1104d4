"""Driving Debian's chromium through Playwright, for the few tests that need a real browser.

Playwright's own browser downloads are never used: the tests launch /usr/bin/chromium and are
skipped, with the reason, on a machine without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = Path(os.environ.get("KLASPOORT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOT_DIR = Path(os.environ.get("KLASPOORT_SCREENSHOTS", "/tmp/kp-shots"))
# The devices coordinators use: a Chromebook and a tablet held upright.
VIEWPORTS = {"chromebook": {"width": 1366, "height": 768},
             "tablet": {"width": 768, "height": 1024}}

# Generous waits: the machine may be busy with other work; a slow page is not a broken one.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


@contextmanager
def chromium_page(viewport: str = "chromebook") -> Iterator[Page]:
    """A fresh browser page (Dutch, Amsterdam time) that is closed afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORTS[viewport], locale="nl-NL",
                                          timezone_id="Europe/Amsterdam")
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def screenshots(page: Page, name: str) -> list[Path]:
    """What a person sees first and the whole page, at both viewports, to look at by eye."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    original = page.viewport_size
    for device, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for suffix, full_page in (("", False), ("-full", True)):
            path = SCREENSHOT_DIR / f"{name}-{device}{suffix}.png"
            page.screenshot(path=str(path), full_page=full_page)
            paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths
