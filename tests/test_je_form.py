"""One form of address throughout: Klaspoort says *je*, never *u* (issue 11, item 7)."""

from __future__ import annotations

import re

from tests.test_i18n_pages import LOCALE, po_entries

# "u" and "uw" as words; "U" may start a sentence. Not inside words ("uur", "jouw", "nu").
POLITE = re.compile(r"(?<![\w-])(u|uw|U|Uw)(?![\w-])")


def test_no_dutch_text_says_u():
    polite = [text for entry in po_entries(LOCALE / "django.po") for text in entry["msgstr"]
              if POLITE.search(text)]
    assert polite == []
