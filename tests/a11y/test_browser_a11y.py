"""WCAG 2.2 AA in a real browser (issue 11, item 13): axe-core finds nothing on any state of the
pupil's journey, the staff sign-in or the coordinator's main Beheer pages, and the keyboard
works the way a pupil or teacher who cannot use a mouse needs it to."""

from __future__ import annotations

import os
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import Page, expect

from klaspoort.roster.models import Group
from tests.browser_support import assert_no_axe_violations, chromium_page, needs_chromium
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    SchoolFactory,
    TeacherFactory,
)
from tests.signin.classroom import classroom

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

EMAIL = "ict@regenboog.example"


def regenboog():
    """A school with a pictures group, a pincode group and a licence, signed in from school."""
    cache.clear()  # no sign-in throttling left over from another test
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    classroom(school)
    CoordinatorFactory(school=school, email=EMAIL)
    return school


def pupil_page(live_server, school) -> str:
    return live_server.url + reverse("signin:pupil_page", args=[school.pupil_page_ref])


def test_axe_finds_nothing_on_the_pupils_journey(live_server, transactional_db):
    school = regenboog()
    with chromium_page() as page:
        page.goto(pupil_page(live_server, school))
        assert_no_axe_violations(page, "groepen")
        page.locator(".kid-tile", has_text="Groep 1-2").click()
        expect(page.locator(".kid-tile", has_text="Sam B.")).to_be_visible()
        assert_no_axe_violations(page, "namen")
        page.locator(".kid-tile", has_text="Sam B.").click()
        expect(page.locator("button.kid-picture")).to_have_count(16)
        assert_no_axe_violations(page, "plaatjes")
        page.locator('button.kid-picture[value="3"]').click()
        expect(page.locator(".kid-slot--filled")).to_have_count(1)
        assert_no_axe_violations(page, "één plaatje gekozen")
        page.locator('button.kid-picture[value="11"]').click()
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        assert_no_axe_violations(page, "lesmateriaal")

        page.locator(".kid-header__logout button").click()
        page.locator(".kid-tile", has_text="Groep 6").click()
        page.locator(".kid-tile", has_text="Noor V.").click()
        expect(page.locator(".kid-key")).to_have_count(11)
        assert_no_axe_violations(page, "pincode")
        for digit in "12345":
            page.locator(f'button.kid-key[value="{digit}"]').click()
        expect(page.locator(".kid-wrong")).to_be_visible()
        assert_no_axe_violations(page, "verkeerde pincode")


def test_axe_finds_nothing_on_the_staff_sign_in_and_the_main_beheer_pages(
        live_server, transactional_db):
    school = regenboog()
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        assert_no_axe_violations(page, "inloggen")
        page.get_by_label("E-mailadres").fill(EMAIL)
        page.get_by_label("Wachtwoord").fill("niet goed")
        page.get_by_role("button", name="Inloggen").click()
        assert_no_axe_violations(page, "inloggen mislukt")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        nav = page.get_by_role("navigation", name="Beheer")
        expect(nav).to_be_visible()
        tabs = [link.get_attribute("href") for link in nav.get_by_role("link").all()]
        assert len(tabs) >= 5, tabs
        # Every tab, and the Automatische koppeling page under Gebruikersgegevens invoeren.
        for href in [*tabs, reverse("roster:coupling", args=[school.brin6])]:
            page.goto(live_server.url + href)
            assert_no_axe_violations(page, href)
        # A group's panel with its pupils' sign-in codes and a "Nieuwe code" button per pupil.
        groep6 = Group.objects.get(school=school, name="Groep 6")
        page.goto(live_server.url + reverse("roster:group", args=[school.brin6, groep6.pk]))
        expect(page.get_by_role("button", name="Nieuwe code voor Noor Vries")).to_be_visible()
        assert_no_axe_violations(page, "groep 6")


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""
    def luminance(colour: str) -> float:
        red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", colour)[:3])
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in (red, green, blue)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def focused(page: Page, attribute: str = "value") -> str | None:
    return page.evaluate(f"() => document.activeElement.getAttribute({attribute!r})")


def test_a_pupil_signs_in_with_the_keyboard_alone(live_server, transactional_db):
    school = regenboog()
    with chromium_page() as page:
        page.goto(pupil_page(live_server, school))
        tile = page.locator(".kid-tile", has_text="Groep 1-2")
        tile.focus()
        # The focus ring stands out on the cream page (WCAG 2.4.11/1.4.11: at least 3:1).
        ring = page.evaluate("""() => [getComputedStyle(document.activeElement).outlineColor,
                                        getComputedStyle(document.body).backgroundColor]""")
        assert contrast(*ring) >= 3, ring
        page.keyboard.press("Space")  # a tile opens with Space, like a button
        name = page.locator(".kid-tile", has_text="Sam B.")
        expect(name).to_be_visible()
        name.focus()
        page.keyboard.press("Space")
        expect(page.locator("button.kid-picture")).to_have_count(16)

        # The first picture fills its slot in place: no reload, focus stays on the pictures and
        # the slots are a status region that a screen reader announces.
        page.evaluate("() => { window.stillHere = true; }")
        page.locator('button.kid-picture[value="3"]').focus()
        page.keyboard.press("Enter")
        slots = page.get_by_role("status")
        expect(slots.locator(".kid-slot--filled")).to_have_count(1)
        expect(slots).to_contain_text("Je plaatjes tot nu toe")
        assert page.evaluate("() => window.stillHere === true"), "the page reloaded"
        assert focused(page) == "3"
        page.keyboard.press("Tab")
        assert focused(page) == "4"  # the next picture is one Tab away
        page.locator('button.kid-picture[value="11"]').focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))

        # The keypad leaves focus on the key just pressed, not back in the field.
        page.locator(".kid-header__logout button").click()
        page.locator(".kid-tile", has_text="Groep 6").click()
        page.locator(".kid-tile", has_text="Noor V.").click()
        page.locator('button.kid-key[value="0"]').focus()
        page.keyboard.press("Enter")
        assert focused(page) == "0"
        page.keyboard.press("Shift+Tab")  # 9, 8, … are next to it
        page.keyboard.press("Shift+Tab")
        assert focused(page) == "8"
        page.keyboard.press("Enter")
        expect(page.locator("input[name=code]")).to_have_value("08")
        assert focused(page) == "8"


def test_a_failed_staff_sign_in_puts_focus_on_a_summary_that_links_to_the_field(
        live_server, transactional_db):
    regenboog()
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        link = page.get_by_role("link", name="Wachtwoord vergeten?")
        box = link.bounding_box()
        assert box is not None and box["height"] >= 24  # WCAG 2.5.8 target size
        page.get_by_label("E-mailadres").fill(EMAIL)
        page.get_by_label("Wachtwoord").fill("niet goed")
        page.keyboard.press("Enter")
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("heading")).to_have_text("Er is iets niet goed")
        expect(page.get_by_label("E-mailadres")).to_have_value(EMAIL)


def test_a_refused_invitation_or_teacher_address_keeps_what_was_typed_and_says_where(
        live_server, transactional_db):
    school = regenboog()
    teacher = TeacherFactory(school=school, email="", first_name="Marieke", last_name="Bakker")
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill(EMAIL)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("navigation", name="Beheer")).to_be_visible()

        page.goto(live_server.url + reverse("roster:coordinators", args=[school.brin6]))
        page.get_by_label("ICT-coördinator uitnodigen").fill("juf.annie@regenboog")
        page.get_by_role("button", name="Uitnodiging versturen").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(page.locator("#invite-email")).to_have_value("juf.annie@regenboog")
        assert_no_axe_violations(page, "uitnodiging geweigerd")
        summary.get_by_role("link").click()  # the summary leads to the field
        expect(page.locator("#invite-email")).to_be_focused()

        page.goto(live_server.url + reverse("roster:teachers", args=[school.brin6]))
        field = page.locator(f"#teacher-email-{teacher.pk}")
        field.fill("marieke.bakker")
        field.press("Enter")
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.locator(f"#teacher-email-{teacher.pk}")).to_have_value("marieke.bakker")
        assert_no_axe_violations(page, "e-mailadres leerkracht geweigerd")
