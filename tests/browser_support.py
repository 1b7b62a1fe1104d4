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
# Screenshots only when asked (`make screenshots` sets the folder): taking them slows every test.
SCREENSHOT_DIR = (Path(os.environ["KLASPOORT_SCREENSHOTS"])
                  if os.environ.get("KLASPOORT_SCREENSHOTS") else None)
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


def screenshot(page: Page, name: str, full_page: bool = False) -> Path | None:
    """One screenshot as `name`.png in KLASPOORT_SCREENSHOTS; nothing when it is not set."""
    if SCREENSHOT_DIR is None:
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def screenshots(page: Page, name: str) -> list[Path]:
    """What a person sees first and the whole page, at both viewports, to look at by eye and
    for the guide (docs/screenshots.py); nothing when KLASPOORT_SCREENSHOTS is not set."""
    if SCREENSHOT_DIR is None:
        return []
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


# axe-core from the npm registry (tests/a11y, pinned; `npm ci --prefix tests/a11y`).
AXE_JS = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA, which Dutch schools must meet: every A and AA rule up to 2.2, nothing stricter.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def assert_no_axe_violations(page: Page, state: str = "") -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on the page as it is now.

    The script goes in through page.evaluate, not a <script> tag: the strict Content-Security-
    Policy (script-src 'self') blocks an injected tag, while evaluate runs over the DevTools
    protocol, outside the page's policy. Skipped, with how to fix it, without node_modules.
    """
    if not AXE_JS.exists():
        pytest.skip(f"no axe-core at {AXE_JS} (npm ci --prefix tests/a11y)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(
        # label-content-name-mismatch (WCAG 2.5.3) is "experimental" in axe: asked for by name.
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                      rules: {"label-content-name-mismatch": {enabled: true}}})
                   .then(result => result.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map(n => n.target.join(" ") + " — " +
                                               n.failureSummary)})))""",
        AXE_TAGS)
    if violations:
        lines = [f"axe-core: {len(violations)} WCAG violation(s) on {state or page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(f"    {node}" for node in violation["nodes"][:10])
        pytest.fail("\n".join(lines), pytrace=False)


# A word split over two lines has two line boxes: its range's rectangles sit at two heights.
BROKEN_WORDS_JS = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


def broken_words(page: Page, selector: str) -> list[str]:
    """The words that the browser split over two lines inside the elements `selector` finds
    ("Mohamme / d", "1- / 2A"): a child reads a name as a whole or not at all."""
    return [word for element in page.locator(selector).all()
            for word in element.evaluate(BROKEN_WORDS_JS)]


def sign_in(page: Page, base: str, email: str, password: str = "") -> None:
    """A staff member signs in through the real sign-in page (the factories' password unless
    another is given) and gets past it."""
    from tests.factories import PASSWORD

    page.goto(base + "/accounts/inloggen/")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password or PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Inloggen")
