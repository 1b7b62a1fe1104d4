"""A pupil of group 1-2 signs in with two pictures in a real browser, on a tablet and on an
interactive whiteboard, and lands on the portal; a method that cannot be opened gets the pupil's
own page. Screenshots (make screenshots): signin-*.png.

Issue 11 in the pupil's journey: name tiles unique in the group (item 4), only pupils' products
with their own picture (item 4), the child-friendly refusal page (item 5), Space and Enter on the
tiles and the on-screen keypad (item 13)."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from klaspoort.licences.models import GroupLicence, Product
from klaspoort.schools.services import set_publisher_consent
from tests.browser_support import (
    SCREENSHOT_DIR,
    broken_words,
    chromium_page,
    needs_chromium,
    screenshot,
)
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory
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
    room = classroom(school, classmates=("Ayla", "Bram", "Daan", "Emma", "Finn", "Lotte",
                                         "Mees", "Noah"))
    GroupFactory(school=school, name="Groep 3", jaargroep="3")
    # Two children whose "first name and initial" would be the same tile.
    for surname in ("Dijkstra", "Dekker"):
        PupilFactory(school=school, group=room.kleuters, first_name="Raphaël", last_name=surname,
                     jaargroep="1")
    # Whiteboard software licensed to the same group is for the teacher, never a pupil's tile.
    whiteboard = ContractFactory(school=school, product__publisher=room.contract.publisher,
                                 product__name="Kleuterplein digibord",
                                 product__product_type=Product.Type.WHITEBOARD)
    GroupLicence.objects.create(contract=whiteboard, group=room.kleuters)

    with chromium_page() as page:
        page.set_viewport_size(SIZES["tablet"])
        page.goto(live_server.url + reverse("signin:pupil_page", args=[school.pupil_page_ref]))
        expect(page.locator(".kid-tile", has_text="Groep 1-2")).to_be_visible()
        assert broken_words(page, ".kid-tile") == []
        shot(page, "1-groups")
        page.locator(".kid-tile", has_text="Groep 1-2").click()
        expect(page.locator(".kid-tile", has_text="Sam B.")).to_be_visible()
        # More letters of the surname until the two Raphaëls differ; no word breaks inside.
        expect(page.locator(".kid-tile", has_text="Raphaël")).to_have_text(
            ["Raphaël De.", "Raphaël Di."])
        assert broken_words(page, ".kid-tile") == []
        shot(page, "2-names")
        # Keyboard works too: focus the tile and press Space, as on any button.
        page.locator(".kid-tile", has_text="Sam B.").focus()
        page.keyboard.press(" ")
        expect(page.locator("button.kid-picture")).to_have_count(16)
        shot(page, "3-pictures")
        page.locator('button.kid-picture[value="3"]').click()
        expect(page.locator(".kid-slot--filled")).to_have_count(1)
        shot(page, "4-one-picture")
        page.locator('button.kid-picture[value="11"]').click()
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        # Only the pupils' method, not the whiteboard software; a lettered picture, as the
        # publisher uploaded no icon.
        expect(page.locator(".portal-tile__name")).to_have_text(["Kleuterplein"])
        expect(page.locator(".portal-tile").first.locator("[aria-hidden=true]").first
               ).to_have_text("K")
        shot(page, "5-portal")
        # A tile fills a tablet's touch target easily.
        box = page.locator(".portal-tile").first.bounding_box()
        assert box is not None and box["height"] >= 80

        # The school withdraws the publisher's consent while Sam's portal is open: the tile
        # now gets a page for a child, in the pupil layout with Sam's own name.
        set_publisher_consent(school, room.contract.publisher, False, actor=None)
        page.locator(".portal-tile").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Dit gaat nu niet open")
        expect(page.locator("body")).to_have_class(re.compile(r"\bkid\b"))
        expect(page.locator(".kid-header__user")).to_have_text("Sam B.")
        expect(page.locator("main")).to_contain_text("Kleuterplein")
        expect(page.get_by_text("None", exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name="Overal uitloggen")).to_have_count(0)
        shot(page, "7-refused")
        page.locator("main a.kid-button", has_text="Terug").click()
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        set_publisher_consent(school, room.contract.publisher, True, actor=None)

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
