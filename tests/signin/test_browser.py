"""A pupil of group 1-2 signs in with two pictures in a real browser, on a tablet and on an
interactive whiteboard, and lands on the portal. Screenshots (make screenshots): signin-*.png."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser_support import SCREENSHOT_DIR, chromium_page, needs_chromium, screenshot
from tests.factories import GroupFactory, SchoolFactory
from tests.signin.classroom import classroom

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = {"tablet": {"width": 1024, "height": 768}, "whiteboard": {"width": 1920, "height": 1080}}


def shot(page: Page, step: str) -> None:
    if SCREENSHOT_DIR is None:  # only when asked: resizing twice slows the test
        return
    original = page.viewport_size
    for device, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"signin-{step}-{device}")
    if original:
        page.set_viewport_size(original)


def test_a_kleuter_signs_in_with_pictures_and_sees_the_portal(live_server, transactional_db):

    school = SchoolFactory(name="Basisschool De Regenboog")
    classroom(school, classmates=("Ayla", "Bram", "Daan", "Emma", "Finn", "Lotte", "Mees",
                                  "Noah"))
    GroupFactory(school=school, name="Groep 3", jaargroep="3")

    with chromium_page() as page:
        page.set_viewport_size(SIZES["tablet"])
        page.goto(live_server.url + reverse("signin:pupil_page", args=[school.pupil_page_ref]))
        expect(page.locator(".kid-tile", has_text="Groep 1-2")).to_be_visible()
        shot(page, "1-groups")
        page.locator(".kid-tile", has_text="Groep 1-2").click()
        expect(page.locator(".kid-tile", has_text="Sam B.")).to_be_visible()
        shot(page, "2-names")
        # Keyboard works too: focus the tile and press Enter.
        page.locator(".kid-tile", has_text="Sam B.").focus()
        page.keyboard.press("Enter")
        expect(page.locator("button.kid-picture")).to_have_count(16)
        shot(page, "3-pictures")
        page.locator('button.kid-picture[value="3"]').click()
        expect(page.locator(".kid-slot--filled")).to_have_count(1)
        shot(page, "4-one-picture")
        page.locator('button.kid-picture[value="11"]').click()
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        expect(page.locator(".portal-tile__name")).to_have_text(["Kleuterplein"])
        shot(page, "5-portal")
        # A tile fills a tablet's touch target easily.
        box = page.locator(".portal-tile").first.bounding_box()
        assert box is not None and box["height"] >= 80

        # Signing out returns to the school's pupil page; the next pupil taps a pincode.
        page.locator(".kid-header__logout button").click()
        expect(page.locator(".kid-tile", has_text="Groep 6")).to_be_visible()
        page.locator(".kid-tile", has_text="Groep 6").click()
        page.locator(".kid-tile", has_text="Noor V.").click()
        expect(page.locator(".kid-key")).to_have_count(11)
        shot(page, "6-pincode")
        for digit in "0421":
            page.locator(f'button.kid-key[value="{digit}"]').click()
        expect(page.locator("input[name=code]")).to_have_value("0421")  # no round trip
        page.locator('button.kid-key[value="7"]').click()  # the fifth digit signs in
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
