"""An ICT coordinator's everyday round in a real browser with JavaScript on, through the *Beheer*
tabs: the school year on *Gegevens*, ticking a publisher, ending an older method's contract,
typing a pincode for one pupil, removing a colleague, and reading it all back in the *Logboek*.

Issue 11 in the coordinator's journey: the school year follows the date and every licence status
matches the actions on offer (item 6); a chosen pincode and removing a coordinator, never the
last one (item 9); the *Logboek* in Dutch words, values included (item 7). Screenshots (make
screenshots): beheer-*.png.
"""

from __future__ import annotations

import datetime
import os
import re

import pytest
from playwright.sync_api import Page, expect

from klaspoort.licences import views as licence_views
from klaspoort.licences.models import Contract
from klaspoort.roster import secrets
from klaspoort.roster.models import Pupil
from klaspoort.schools import views as school_views
from klaspoort.schools.models import PublisherConsent, SchoolMembership
from tests.browser_support import chromium_page, needs_chromium, screenshots, sign_in
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

# A fixed day in the autumn, so "before 30 June" and the school year do not depend on when the
# suite runs. The live server runs in this process, so the patched `today` is the one it uses.
DAY = datetime.date(2026, 12, 1)


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Beheer").get_by_role("link", name=name,
                                                              exact=True).click()
    expect(page.get_by_role("navigation", name="Beheer").get_by_role(
        "link", name=name, exact=True)).to_have_attribute("aria-current", "page")


def test_a_coordinators_round_through_beheer(live_server, transactional_db, monkeypatch):
    monkeypatch.setattr(school_views, "today", lambda: DAY)
    monkeypatch.setattr(licence_views, "today", lambda: DAY)
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog",
                           school_year="2025-2026")
    me = CoordinatorFactory(school=school, email="ict@regenboog.example")
    colleague = CoordinatorFactory(school=school, email="collega@regenboog.example")
    group = GroupFactory(school=school, name="Groep 6", jaargroep="6",
                         signin_method=secrets.PINCODE)
    anouk = PupilFactory(school=school, group=group, first_name="Anouk", last_name="Smit",
                         jaargroep="6", signin_secret=secrets.encrypt("pincode:48213"))
    malmberg = PublisherFactory(name="Malmberg", slug="malmberg")
    old = ProductFactory(publisher=malmberg, name="Pluspunt 3")
    older = ContractFactory(school=school, product=old, number="MB-3", title="Pluspunt 3",
                            start=datetime.date(2024, 8, 1), end=datetime.date(2029, 7, 31))
    ContractFactory(school=school, number="MB-4", title="Pluspunt 4",
                    product=ProductFactory(publisher=malmberg, name="Pluspunt 4", replaces=old),
                    start=datetime.date(2026, 8, 1), end=datetime.date(2029, 7, 31))

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        page.goto(f"{live_server.url}/beheer/{school.brin6}/gegevens/")

        # Gegevens: the school year follows the date, not the last roster file.
        tab(page, "Gegevens")
        year = page.locator("dt", has_text="Schooljaar").locator("xpath=following-sibling::dd[1]")
        expect(year).to_contain_text("2026-2027")
        expect(page.locator("main")).to_contain_text("schooljaar 2025-2026")
        screenshots(page, "beheer-01-gegevens")
        # The home sign-in card (signin's, on this page) saves and comes back here.
        home_signin = page.get_by_label("Leerlingen mogen thuis inloggen met de School ID")
        home_signin.check()
        page.locator("#home-signin-heading").locator("xpath=..").get_by_role(
            "button", name="Opslaan").click()
        expect(page.get_by_role("status")).to_contain_text("Leerlingen kunnen nu thuis inloggen.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")
        expect(home_signin).to_be_checked()

        # Uitgeverijen: tick Malmberg.
        tab(page, "Uitgeverijen")
        page.get_by_label("Malmberg").check()
        page.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_role("status")).to_contain_text("Je keuze is opgeslagen")

        # Licentiebeheer: the older version says "te beëindigen", and the page offers exactly
        # what that text asks for.
        tab(page, "Licentiebeheer")
        row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="MB-3"))
        expect(row).to_contain_text("te beëindigen")
        page.get_by_role("link", name="MB-3").click()
        expect(page.locator("main")).to_contain_text("nieuwere versie")
        expect(page.locator("main")).to_contain_text("zeg hem op")
        page.get_by_role("link", name="Opzeggen", exact=True).click()
        expect(page.get_by_role("button", name="Ja, zeg dit contract op")).to_be_visible()
        screenshots(page, "beheer-02-opzeggen")
        page.get_by_role("button", name="Ja, zeg dit contract op").click()
        expect(page.get_by_role("status")).to_contain_text("Het contract is opgezegd")
        expect(page.get_by_role("link", name="Opzeggen", exact=True)).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("zeg hem op")
        tab(page, "Licentiebeheer")
        expect(row).to_contain_text("opgezegd")

        # Groepen: a pincode typed for one pupil; a trivial one is refused in Dutch.
        tab(page, "Groepen")
        page.get_by_role("link", name="Groep 6").first.click()
        chooser = page.get_by_role("group", name="Kies een pincode voor één leerling")
        chooser.get_by_label("Leerling").select_option(label=anouk.sort_name)
        chooser.get_by_label("Pincode").fill("77777")
        chooser.get_by_role("button", name="Pincode opslaan").click()
        expect(page.get_by_text(re.compile("minstens drie verschillende cijfers"))
               ).to_be_visible()
        chooser.get_by_label("Leerling").select_option(label=anouk.sort_name)
        chooser.get_by_label("Pincode").fill("31415")
        chooser.get_by_role("button", name="Pincode opslaan").click()
        expect(page.get_by_text("Anouk Smit heeft de pincode die je koos.")).to_be_visible()

        # ICT-coördinatoren: removing a colleague asks first; then I am the last one, and the
        # page offers no way to remove me.
        tab(page, "ICT-coördinatoren")
        page.get_by_role("link", name="Verwijderen collega@regenboog.example").click()
        expect(page.get_by_role("heading", level=2)).to_have_text(
            "collega@regenboog.example verwijderen?")
        screenshots(page, "beheer-03-coordinator-verwijderen")
        page.get_by_role("button", name="Ja, verwijderen").click()
        expect(page.get_by_role("status")).to_contain_text(
            "collega@regenboog.example is geen ICT-coördinator")
        expect(page.get_by_role("link", name=re.compile("^Verwijderen"))).to_have_count(0)

        # Logboek: every one of those in Dutch words, values included.
        tab(page, "Logboek")
        log = page.locator("main")
        for expected in ("ICT-coördinator verwijderd", "toestemming: nee → toestemming: ja",
                         "einddatum: 31 juli 2029 → einddatum: 31 juli 2027",
                         "Pincode van een leerling zelf gekozen", "inlogmethode: pincode"):
            expect(log).to_contain_text(expected)
        shown = " ".join(log.evaluate(
            "main => { const copy = main.cloneNode(true);"
            " copy.querySelectorAll('details').forEach(d => d.remove());"
            " return copy.innerText; }").split())
        for english in ("True", "False", "None", "consent", "end:", "31415"):
            assert not re.search(rf"(?<![\w@.-]){re.escape(english)}(?![\w@-])", shown), english
        screenshots(page, "beheer-04-logboek")

    assert Contract.objects.get(pk=older.pk).cancelled_at is not None
    assert PublisherConsent.objects.filter(school=school, publisher=malmberg,
                                           withdrawn_at__isnull=True).exists()
    assert secrets.decrypt(Pupil.objects.get(pk=anouk.pk).signin_secret) == "pincode:31415"
    assert list(SchoolMembership.objects.filter(school=school).values_list("user", flat=True)
                ) == [me.pk]
    assert colleague.__class__.objects.get(pk=colleague.pk).is_active
    school.refresh_from_db()
    assert school.home_signin_enabled
