"""*Automatische koppeling* in a real browser: a coordinator switches the coupling on with the
keyboard, sees the status, and switches it off after the question; axe-core finds no WCAG 2.2
AA violation in any of these states."""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from klaspoort.roster.models import LasSystem, RosterCoupling
from klaspoort.roster.secrets import open_text
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

KEY = "esis-7f3a9c2e-4b1d-1234"


def test_a_coordinator_switches_the_coupling_on_and_off_in_the_browser(
        live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    LasSystem.objects.create(name="ESIS", slug="esis", method=LasSystem.Method.PULL,
                             endpoint="https://uwlr.esis.example/ll", needs_key=True)
    LasSystem.objects.create(name="ParnasSys", slug="parnassys", method=LasSystem.Method.PULL,
                             endpoint="https://uwlr.parnassys.example/ll", needs_key=False)

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        page.goto(live_server.url + reverse("roster:imports", args=[school.brin6]))
        page.get_by_role("link", name="Automatische koppeling instellen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Automatische koppeling")
        assert_no_axe_violations(page, "koppeling uit")
        key_field = page.get_by_role("textbox", name="Autorisatiesleutel")
        expect(key_field).to_be_visible()  # nothing chosen yet: the field is there

        # A LAS without a key: htmx takes the field away; choosing ESIS brings it back.
        page.get_by_role("radio", name=re.compile("ParnasSys")).check()
        expect(key_field).to_have_count(0)
        page.get_by_role("radio", name=re.compile("ESIS")).focus()
        page.keyboard.press("Space")
        expect(key_field).to_be_visible()

        # A key that is too short: the error summary at the top, the page keeps the choice.
        key_field.fill("kort")
        page.get_by_role("button", name="Koppeling aanzetten").click()
        expect(page.get_by_role("heading", name="Er is iets niet goed")).to_be_visible()
        expect(page.get_by_text("De autorisatiesleutel is te kort").first).to_be_visible()
        assert_no_axe_violations(page, "sleutel te kort")
        assert not RosterCoupling.objects.exists()

        page.get_by_role("textbox", name="Autorisatiesleutel").fill(KEY)
        page.get_by_role("textbox", name="Autorisatiesleutel").press("Enter")
        expect(page.get_by_text("De automatische koppeling met ESIS staat aan")).to_be_visible()
        expect(page.get_by_text("\N{BULLET}" * 4 + KEY[-4:])).to_be_visible()
        expect(page.get_by_text("Volgende keer ophalen")).to_be_visible()
        assert KEY not in page.content()
        screenshots(page, "automatische-koppeling-aan")
        assert_no_axe_violations(page, "koppeling aan")
        assert open_text("las-key", RosterCoupling.objects.get().sealed_key) == KEY

        # Switching off asks first, in place; only "Ja" switches off.
        page.get_by_role("button", name="Koppeling uitzetten").click()
        question = page.get_by_role("heading", name="Koppeling met ESIS uitzetten?")
        expect(question).to_be_visible()
        assert_no_axe_violations(page, "uitzetten vragen")
        assert RosterCoupling.objects.get().active
        page.get_by_role("button", name="Ja, zet de koppeling uit").click()
        expect(page.get_by_text("De automatische koppeling met ESIS staat uit")).to_be_visible()
        assert_no_axe_violations(page, "koppeling uitgezet")
        coupling = RosterCoupling.objects.get()
        assert not coupling.active and coupling.sealed_key == ""
