"""The guide's images come from the browser tests (docs/screenshots.py, `make screenshots`):
every image the guide shows is mapped to a screenshot a test takes, and a missing screenshot
stops the copy loudly instead of leaving a stale picture (issue 11, item 11)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("guide_screenshots", ROOT / "docs/screenshots.py")
assert _spec and _spec.loader
screenshots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screenshots)


def test_every_image_in_the_guide_comes_from_a_test_screenshot():
    shown = screenshots.guide_images()
    assert "16-licentiebeheer.png" in shown
    assert shown <= screenshots.MAPPING.keys()
    assert shown == {name for name in screenshots.MAPPING}, "a mapped image the guide never shows"


def test_the_guide_shows_the_main_pages_at_desktop_and_tablet_size():
    shown = screenshots.guide_images()
    for page in ("03-gebruikersgegevens", "04-groepen", "15-gegevens", "16-licentiebeheer"):
        assert {f"{page}.png", f"{page}-tablet.png"} <= shown


def test_every_mapped_screenshot_is_taken_by_a_browser_test():
    """The name before -chromebook/-tablet(-full) is one a test passes to screenshots()."""
    sources = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py"))
    for source in screenshots.MAPPING.values():
        stem = re.sub(r"-(chromebook|tablet)(-full)?\.png$|\.png$", "", source)
        stem = re.sub(r"^signin-(.*)$", r"\1", stem)  # tests/signin/test_browser.py's shot()
        assert f'"{stem}"' in sources, f"no test takes the screenshot {source}"


def test_a_missing_screenshot_fails_loudly_and_copies_nothing(tmp_path, monkeypatch, capsys):
    images = tmp_path / "img"
    monkeypatch.setattr(screenshots, "IMAGES", images)
    first, *others = screenshots.MAPPING.values()
    for source in others:
        (tmp_path / source).write_bytes(b"\x89PNG")

    assert screenshots.main(["screenshots.py", str(tmp_path)]) == 1
    assert first in capsys.readouterr().err
    assert not images.exists()

    (tmp_path / first).write_bytes(b"\x89PNG")
    assert screenshots.main(["screenshots.py", str(tmp_path)]) == 0
    assert sorted(p.name for p in images.iterdir()) == sorted(screenshots.MAPPING)
