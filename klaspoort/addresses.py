"""The addresses Klaspoort hands out to be kept: printed cards, QR codes, shortcuts.

A project-level module (it imports no app): the group panels (roster), the cards and shortcuts
(signin) and the demo all build them here, so they can never disagree.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def public_url(path: str) -> str:
    """RULE: every address Klaspoort hands out to be kept — the pupil page on a printed card
    and on the group panel, the card's QR code, the shortcuts on pupils' desktops — starts with
    Klaspoort's configured public address (KLASPOORT_SITE_URL), never with the host the
    coordinator or teacher happened to use: a card and a shortcut last for years, and the text
    and the QR code of one card must name the same address."""
    return settings.SITE_URL + path


def pupil_page_url(school: Any, product_id: int | None = None) -> str:
    """The school's pupil page (`public_url`), reached only through its unguessable reference;
    with `product_id`, the method to open after sign-in (a shortcut)."""
    url = public_url(reverse("signin:pupil_page", kwargs={"ref": school.pupil_page_ref}))
    return url + (f"?{urlencode({'next': product_id})}" if product_id else "")
