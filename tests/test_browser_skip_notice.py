"""`make test` on a machine without chromium says loudly that the browser tests did not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_without_chromium_ends_with_a_loud_notice_and_the_way_to_install_it():
    env = {**os.environ, "KLASPOORT_CHROMIUM": "/nonexistent/chromium"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/roster/test_browser.py", "-p", "no:xdist",
         "-p", "no:randomly", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stdout[-2000:]
    assert "BROWSER TESTS WERE NOT RUN" in done.stdout
    assert "apt-get install chromium" in done.stdout
