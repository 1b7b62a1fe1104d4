"""The *Schooljaar-checklist* in a real browser (issue 16, "done when"): a coordinator sees a
red item (no IP addresses), follows its fix link, adds the school's address on *IP-adressen*,
comes back and sees the item green; axe-core finds no WCAG 2.2 AA violation on the page."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from klaspoort.schools.models import SchoolNetwork
from tests.browser_support import (
    assert_no_axe_violations,
    chromium_page,
    needs_chromium,
    screenshots,
    sign_in,
)
from tests.factories import CoordinatorFactory, SchoolFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_coordinator_fixes_a_red_item_and_sees_it_turn_green(live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        # Home (Gegevens) sums the checklist up and links to it.
        page.get_by_role("link", name="Open de schooljaar-checklist").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Schooljaar-checklist")
        item = page.locator("#check-schoolsnetworks")
        expect(item.get_by_role("heading", level=2)).to_have_text("IP-adressen van de school")
        expect(item.get_by_text("Actie nodig")).to_be_visible()
        expect(item.get_by_text("Er is geen IP-adres ingevoerd")).to_be_visible()
        assert_no_axe_violations(page, "checklist met rode onderdelen")
        screenshots(page, "schooljaar-checklist")

        item.get_by_role("link", name="Naar IP-adressen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("IP-adressen")
        page.get_by_role("textbox", name="IP-adres of reeks").fill("145.10.20.30")
        page.get_by_role("button", name="IP-adres toevoegen").click()
        expect(page.get_by_text("145.10.20.30/32 is toegevoegd")).to_be_visible()
        assert SchoolNetwork.objects.filter(school=school, network="145.10.20.30/32").exists()

        page.get_by_role("link", name="Schooljaar-checklist").click()
        item = page.locator("#check-schoolsnetworks")
        expect(item.get_by_text("In orde")).to_be_visible()
        expect(item.get_by_text("Actie nodig")).to_have_count(0)
        expect(item.get_by_text("145.10.20.30")).to_be_visible()
        assert page.url.endswith(reverse("schools:checklist", args=[school.brin6]))
