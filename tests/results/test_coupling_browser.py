"""*Resultatenkoppelingen* and the teacher's *Resultaten* in a real browser (issue 15, "Done
when"): a coordinator adds a coupling to the example LAS and sees its status; when the LAS
refuses the key the page says why in Dutch, and a new key is saved; earlier results go only
when she asks; removing asks first. A teacher prints her group's results without the site's
navigation. axe-core finds no WCAG 2.2 AA violation in any of these states.

The LAS's refusal is written into the coupling's state the way the delivery records it
(state "refused", last_error {"message": roster.uwlr.NOT_AUTHORISED, "params": {"las": …}}):
the sending itself is tested with the delivery code, and no sending task runs here.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from klaspoort.results import outbox
from klaspoort.results.models import Delivery, Result, ResultCoupling
from klaspoort.roster import uwlr
from klaspoort.roster.secrets import open_text
from tests.browser_support import (
    assert_no_axe_violations,
    chromium_page,
    needs_chromium,
    screenshots,
    sign_in,
)
from tests.factories import (
    CoordinatorFactory,
    GroupFactory,
    LasSystemFactory,
    PupilFactory,
    ResultFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

# The example LAS as `klaspoort demo-data` puts it in the catalogue (examples/las_app).
EXAMPLE_LAS = "Voorbeeld-LAS"
KEY = "demo-las-sleutel-99ZZ00-8002"
WRONG_KEY = "verkeerde-sleutel-0000"
NEW_KEY = "nieuwe-sleutel-99ZZ00-4321"


@pytest.fixture
def started(monkeypatch):
    """The sending tasks that would start after a commit (none is run in this test)."""
    calls: list[list[int]] = []
    monkeypatch.setattr(outbox, "start_delivery", lambda ids: calls.append(list(ids)))
    return calls


def test_a_coordinator_adds_a_coupling_sees_the_refusal_in_dutch_and_fixes_the_key(
        live_server, transactional_db, started):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    LasSystemFactory(name=EXAMPLE_LAS, slug="voorbeeld-las",
                      endpoint="http://localhost:8002/leerlinggegevens",
                      results_endpoint="http://localhost:8002/leerresultaten")
    LasSystemFactory(name="Alleen roosters", slug="alleen-roosters", results_endpoint="")
    pupil = PupilFactory(school=school, first_name="Noor")
    old = ResultFactory(pupil=pupil)  # arrived before the coupling: not sent by itself
    Result.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - datetime.timedelta(days=3))

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        page.goto(live_server.url + reverse("schools:data", args=[school.brin6]))
        page.get_by_role("navigation", name="Beheer").get_by_role(
            "link", name="Resultatenkoppelingen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Resultatenkoppelingen")
        expect(page.get_by_text("Je school heeft nog geen resultatenkoppeling")).to_be_visible()
        # Only a LAS that takes results is offered.
        expect(page.get_by_role("radio", name=re.compile("Alleen roosters"))).to_have_count(0)
        assert_no_axe_violations(page, "geen koppeling")

        # A key that is too short: the error summary at the top; nothing is stored.
        page.get_by_role("radio", name=re.compile(EXAMPLE_LAS)).check()
        page.get_by_role("textbox", name="Autorisatiesleutel").fill("kort")
        page.get_by_role("button", name="Opslaan", exact=True).click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("De autorisatiesleutel is te kort")
        expect(page.get_by_role("radio", name=re.compile(EXAMPLE_LAS))).to_be_checked()
        expect(page.get_by_role("textbox", name="Autorisatiesleutel")).to_have_value("")
        assert_no_axe_violations(page, "sleutel te kort")
        assert not ResultCoupling.objects.exists()

        # With the keyboard: the key (which the LAS will refuse), the box, Enter.
        page.get_by_role("textbox", name="Autorisatiesleutel").fill(WRONG_KEY)
        page.get_by_role("checkbox", name="Schoolcijfergrenzen meesturen").focus()
        page.keyboard.press("Space")
        page.get_by_role("textbox", name="Autorisatiesleutel").press("Enter")
        expect(page.get_by_text(f"De resultatenkoppeling met {EXAMPLE_LAS} is toegevoegd")
               ).to_be_visible()
        card = page.get_by_role("region", name=EXAMPLE_LAS)
        expect(card.get_by_text("\N{BULLET}" * 4 + "0000")).to_be_visible()
        expect(card.get_by_text("Verstuurt resultaten")).to_be_visible()
        expect(card.get_by_text("0 verstuurd, 0 wachtend, 0 mislukt")).to_be_visible()
        expect(card.get_by_role("button", name="Eerdere resultaten versturen (1)")
               ).to_be_visible()
        assert WRONG_KEY not in page.content()
        coupling = ResultCoupling.objects.get()
        assert coupling.send_grade_boundaries
        assert open_text("results-key", coupling.sealed_key) == WRONG_KEY
        assert_no_axe_violations(page, "koppeling toegevoegd")

        # The LAS refuses the key at the next delivery; one result waits.
        Delivery.objects.create(coupling=coupling, result=ResultFactory(pupil=pupil),
                                next_attempt_at=timezone.now() + datetime.timedelta(hours=1),
                                attempts=3)
        ResultCoupling.objects.filter(pk=coupling.pk).update(
            state=ResultCoupling.State.REFUSED,
            last_error={"message": uwlr.NOT_AUTHORISED, "params": {"las": EXAMPLE_LAS}})
        page.reload()
        card = page.get_by_role("region", name=EXAMPLE_LAS)
        expect(card.get_by_text("Geweigerd door het leerlingvolgsysteem")).to_be_visible()
        expect(card.get_by_text(
            f"De autorisatiesleutel wordt niet geaccepteerd door {EXAMPLE_LAS}.")
        ).to_be_visible()
        expect(card.get_by_text("0 verstuurd, 1 wachtend, 0 mislukt")).to_be_visible()
        screenshots(page, "resultatenkoppeling-geweigerd")
        assert_no_axe_violations(page, "sleutel geweigerd")

        # A new key: the refusal is gone and the waiting result is due at once.
        card.get_by_role("textbox", name=f"Nieuwe autorisatiesleutel voor {EXAMPLE_LAS}"
                         ).fill(NEW_KEY)
        card.get_by_role("button", name="Nieuwe sleutel opslaan").click()
        expect(page.get_by_text(f"De nieuwe autorisatiesleutel voor {EXAMPLE_LAS} is "
                                "opgeslagen.")).to_be_visible()
        card = page.get_by_role("region", name=EXAMPLE_LAS)
        expect(card.get_by_text("\N{BULLET}" * 4 + "4321")).to_be_visible()
        expect(card.get_by_text("Geweigerd door het leerlingvolgsysteem")).to_have_count(0)
        assert Delivery.objects.get().next_attempt_at <= timezone.now()
        assert started == [[coupling.pk]]
        assert NEW_KEY not in page.content()

        # Earlier results only when asked, after the question; then the button is gone.
        card.get_by_role("button", name="Eerdere resultaten versturen (1)").click()
        question = page.get_by_role("heading", name=f"1 eerder resultaat naar {EXAMPLE_LAS} "
                                                    "versturen?")
        expect(question).to_be_visible()
        assert_no_axe_violations(page, "eerdere resultaten vragen")
        assert Delivery.objects.count() == 1
        page.get_by_role("button", name="Ja, verstuur ze").click()
        expect(page.get_by_text(f"1 eerder resultaat wordt naar {EXAMPLE_LAS} verstuurd.")
               ).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("Eerdere resultaten versturen"))
               ).to_have_count(0)
        assert Delivery.objects.filter(result=old).count() == 1

        # Removing asks first, in place; only "Ja" removes, with what waited.
        page.get_by_role("region", name=EXAMPLE_LAS).get_by_role(
            "button", name="Verwijderen").click()
        expect(page.get_by_role("heading", name=f"Resultatenkoppeling met {EXAMPLE_LAS} "
                                                 "verwijderen?")).to_be_visible()
        assert_no_axe_violations(page, "verwijderen vragen")
        assert ResultCoupling.objects.exists()
        page.get_by_role("button", name="Ja, verwijder de koppeling").click()
        expect(page.get_by_text(f"De resultatenkoppeling met {EXAMPLE_LAS} is verwijderd")
               ).to_be_visible()
        assert not ResultCoupling.objects.exists() and not Delivery.objects.exists()
        assert_no_axe_violations(page, "koppeling verwijderd")


def test_a_teacher_prints_her_groups_results_without_the_navigation(
        live_server, transactional_db):
    school = SchoolFactory(name="Basisschool De Regenboog")
    group = GroupFactory(school=school, name="Groep 6", jaargroep="6")
    teacher = TeacherFactory(school=school, user=UserFactory(email="m.visser@regenboog.example"))
    teacher.groups.add(group)
    noor = PupilFactory(school=school, group=group, first_name="Noor", last_name="Vries")
    ResultFactory(pupil=noor, test_name="Rekenen blok 3", score=8, max_score=10)

    with chromium_page() as page:
        sign_in(page, live_server.url, "m.visser@regenboog.example")
        page.get_by_role("link", name="Resultaten", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Resultaten")
        assert_no_axe_violations(page, "resultaten: groepen")
        page.get_by_role("link", name="Groep 6").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Resultaten van Groep 6")
        table = page.get_by_role("table", name="Resultaten van Groep 6")
        expect(table.get_by_role("row", name=re.compile("Noor Vries"))).to_contain_text("8/10")
        assert_no_axe_violations(page, "resultaten van een groep")

        # With JavaScript the Printen button shows and opens the print dialog.
        page.evaluate("() => { window.printed = 0; window.print = () => { window.printed++; }; }")
        page.get_by_role("button", name="Printen").click()
        assert page.evaluate("() => window.printed") == 1
        # On paper: the table without the header, the navigation or the buttons.
        page.emulate_media(media="print")
        expect(page.locator(".site-header")).to_be_hidden()
        expect(page.get_by_role("button", name="Printen")).to_be_hidden()
        expect(table).to_be_visible()
        page.emulate_media(media="screen")

        with page.expect_download() as download:
            page.get_by_role("link", name="Downloaden (CSV)").click()
        path = download.value.path()
        assert path is not None
        data = Path(path).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and b"Noor Vries;Groep 6" in data

        page.get_by_role("link", name="Printversie").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Resultaten van Groep 6")
        expect(page.locator(".site-header")).to_have_count(0)
        assert_no_axe_violations(page, "printversie resultaten")
