"""One coordinator's morning in a real browser: sign in, upload the roster, see the groups."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from klaspoort.roster import services
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Group, Pupil, RosterImport
from tests.browser_support import chromium_page, needs_chromium, screenshots
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def open_tab(page: Page, label: str) -> None:
    navigation = page.get_by_role("navigation", name="Beheer")
    navigation.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def test_a_coordinator_uploads_a_file_and_after_the_night_sees_the_groups(
        live_server, transactional_db, tmp_path):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    coordinator = CoordinatorFactory(school=school, email="ict@regenboog.example",
                                     display_name="Fatima el Idrissi")
    coordinator.school_memberships.create(school=SchoolFactory(name="OBS Het Kompas"))
    roster_file = tmp_path / "regenboog.xml"
    roster_file.write_bytes(generate_school("99ZZ", "00", 120, seed=7))
    broken_file = tmp_path / "kapot.xml"
    broken_file.write_bytes(roster_file.read_bytes().replace(b'key="L000002"', b'key="L000001"'))

    with chromium_page() as page:
        page.goto(live_server.url + "/")
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/"))
        screenshots(page, "01-inloggen")
        page.get_by_label("E-mailadres").fill("ict@regenboog.example")
        page.get_by_label("Wachtwoord").fill("niet-mijn-wachtwoord1")
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_text("horen niet bij elkaar")).to_be_visible()
        screenshots(page, "01-inloggen-fout")

        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kies een school")
        screenshots(page, "02-kies-een-school")
        page.get_by_role("link", name=re.compile("Basisschool De Regenboog")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")
        expect(page.get_by_text(coordinator.display_name)).to_be_visible()
        expect(page.get_by_label("Andere school")).to_be_visible()

        # Upload: validated at once, processed tonight.
        open_tab(page, "Gebruikersgegevens invoeren")
        manual = page.get_by_role("region", name="Handmatige import")
        manual.get_by_label("EDEXML-bestand").set_input_files(str(roster_file))
        manual.get_by_role("button", name="Importeer").click()
        expect(manual.get_by_text("Het bestand is goedgekeurd en wordt vannacht verwerkt")
               ).to_be_visible()
        # The progress bar followed the upload to the end, without a page load.
        assert page.locator("#edexml-progress").evaluate("bar => bar.value") == 100
        history = page.get_by_role("region", name="Eerdere imports")
        expect(history.get_by_role("row").nth(1)).to_contain_text("Wacht op nachtelijke verwerking")
        expect(history.get_by_role("row").nth(1)).to_contain_text("regenboog.xml")
        assert not Pupil.objects.filter(school=school).exists()

        # A broken file: every error at once, with its line, on the same page.
        manual.get_by_label("EDEXML-bestand").set_input_files(str(broken_file))
        manual.get_by_role("button", name="Importeer").click()
        expect(manual.get_by_role("alert")).to_contain_text("Er is niets gewijzigd")
        expect(manual.get_by_role("table")).to_contain_text("L000001")
        expect(history.get_by_role("row").nth(1)).to_contain_text("Mislukt")
        screenshots(page, "03-gebruikersgegevens-invoeren")
        history.get_by_role("link", name=re.compile("kapot.xml")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Import van")
        screenshots(page, "03b-import-mislukt")

        # The nightly run.
        [record] = services.process_waiting_imports()
        assert record.status == RosterImport.Status.PROCESSED

        open_tab(page, "Gebruikersgegevens invoeren")
        screenshots(page, "03c-na-de-nacht")
        open_tab(page, "Groepen")
        group = Group.objects.get(school=school, name="Groep 4")
        pupil = Pupil.objects.filter(group=group, active=True).order_by("last_name").first()
        screenshots(page, "04-groepen")
        page.get_by_role("link", name="Groep 4", exact=True).click()
        panel = page.locator("#group-panel")
        expect(panel.get_by_role("heading", name="Groep 4")).to_be_visible()
        expect(panel).to_contain_text(pupil.sort_name)
        expect(page).to_have_url(re.compile(rf"/groepen/{group.pk}/$"))
        screenshots(page, "05-groep-4")

        open_tab(page, "Leerlingen")
        page.get_by_label("Zoek een leerling").fill(pupil.last_name)
        expect(page.get_by_role("status").filter(has_text="gevonden voor")).to_contain_text(
            pupil.last_name)
        expect(page.locator("#pupil-results tbody")).to_contain_text(pupil.sort_name)
        page.get_by_label("Zoek een leerling").fill("")
        expect(page.get_by_role("status").filter(has_text="actieve")).to_contain_text("120")
        # Sorting by keyboard keeps the focus on the column header.
        page.locator('.sort-link[data-column="groep"]').focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("columnheader", name=re.compile("^Groep"))).to_have_attribute(
            "aria-sort", "ascending")
        expect(page.locator('.sort-link[data-column="groep"]')).to_be_focused()
        expect(page).to_have_url(re.compile(r"sort=groep"))
        screenshots(page, "06-leerlingen")

        open_tab(page, "Leerkrachten")
        screenshots(page, "07-leerkrachten")
        open_tab(page, "ICT-coördinatoren")
        screenshots(page, "08-ict-coordinatoren")
        open_tab(page, "IP-adressen")
        screenshots(page, "09-ip-adressen")
        page.locator("header .account__user").get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mijn profiel")
        screenshots(page, "10-mijn-profiel")
        page.go_back()
        open_tab(page, "Gegevens")
        expect(page.get_by_text("Mislukt")).to_be_visible()  # kapot.xml was the latest
        expect(page.get_by_text("Laatst verwerkt", exact=True)).to_be_visible()
        screenshots(page, "02b-gegevens")
