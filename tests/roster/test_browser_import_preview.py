"""Knowing what a roster file will do before the night, in a real browser (decision 0015).

A coordinator whose school already has its roster uploads a file with a few changes and sees
who is added, changed and deactivated; then a file of only one group, which waits for a
confirmation: cancelled it changes nothing, confirmed the night applies it.
"""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from klaspoort.roster import services
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Pupil, RosterImport, sort_name
from tests.browser_support import chromium_page, needs_chromium, screenshots
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

Status = RosterImport.Status


def edited(data: bytes, *, keep: int | None = None, drop: tuple[str, ...] = (),
           rename: tuple[str, str] | None = None, add: tuple[str, str, str] | None = None
           ) -> bytes:
    """The school's file with pupils left out (all after the first `keep`, or the keys in
    `drop`), one pupil's roepnaam changed (key, new name) and one pupil added (key, roepnaam,
    achternaam; in the first pupil's group)."""
    root = etree.fromstring(data)
    pupils = root.find("leerlingen")
    template = pupils[0]
    for number, pupil in enumerate(list(pupils), start=1):
        if (keep is not None and number > keep) or pupil.get("key") in drop:
            pupils.remove(pupil)
        elif rename and pupil.get("key") == rename[0]:
            pupil.find("roepnaam").text = rename[1]
            pupil.find("voornamen").text = rename[1]
    if add:
        key, first, last = add
        pupil = etree.fromstring(etree.tostring(template))
        pupil.set("key", key)
        pupil.attrib.pop("eckid", None)
        for tag, text in (("roepnaam", first), ("voornamen", first), ("achternaam", last),
                          ("voorletters-1", first[0] + ".")):
            pupil.find(tag).text = text
        if pupil.find("voorvoegsel") is not None:
            pupil.remove(pupil.find("voorvoegsel"))
        pupils.append(pupil)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def open_tab(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Beheer").get_by_role(
        "link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def upload(page: Page, path) -> None:
    open_tab(page, "Gebruikersgegevens invoeren")
    manual = page.get_by_role("region", name="Handmatige import")
    manual.get_by_label("EDEXML-bestand").set_input_files(str(path))
    manual.get_by_role("button", name="Importeer").click()


def active_pupils(school) -> int:
    return Pupil.objects.filter(school=school, active=True).count()


def test_a_coordinator_sees_what_a_file_changes_and_stops_one_that_would_empty_the_school(
        live_server, transactional_db, tmp_path):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example",
                       display_name="Fatima el Idrissi")
    roster = generate_school("99ZZ", "00", 120, seed=7)
    first = services.receive_roster_file(roster, source=RosterImport.Source.UPLOAD,
                                         filename="regenboog-september.xml", school=school)
    assert services.process_import(first.pk).status == Status.PROCESSED
    assert active_pupils(school) == 120

    renamed = Pupil.objects.get(school=school, key="L000004")
    new_name = "Sanne" if renamed.first_name != "Sanne" else "Fenna"
    gone = list(Pupil.objects.filter(school=school, key__in=["L000030", "L000061", "L000095"]))
    changes = tmp_path / "regenboog-december.xml"
    changes.write_bytes(edited(roster, drop=tuple(p.key for p in gone),
                               rename=(renamed.key, new_name),
                               add=("L000999", "Yara", "Bakker")))
    one_group = tmp_path / "groep-1-2a.xml"
    one_group.write_bytes(edited(roster, keep=15))

    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill("ict@regenboog.example")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")

        # A file with a few changes: approved, and its page says what the night will do.
        upload(page, changes)
        manual = page.get_by_role("region", name="Handmatige import")
        expect(manual.get_by_text("Het bestand is goedgekeurd en wordt vannacht verwerkt")
               ).to_be_visible()
        manual.get_by_role("link", name="Bekijk wat dit bestand verandert").click()
        preview = page.get_by_role("region", name="Wat dit bestand verandert")
        expect(preview.get_by_role("row", name="Leerlingen").get_by_role("cell")).to_have_text(
            ["1", "1", "3", "0"])
        expect(preview.get_by_role("row", name="Leerkrachten").get_by_role("cell")
               ).to_have_text(["0", "0", "0", "0"])
        for summary in ("Gedeactiveerd: 3", "Toegevoegd: 1", "Gewijzigd: 1"):
            preview.get_by_text(summary, exact=True).click()
        items = preview.get_by_role("listitem")
        for pupil in gone:
            expect(items.filter(has_text=pupil.sort_name)).to_be_visible()
        expect(items.filter(has_text="Bakker, Yara")).to_be_visible()
        new_sort_name = sort_name(new_name, renamed.prefix, renamed.last_name)
        expect(items.filter(has_text=new_sort_name)).to_contain_text(
            re.compile(rf"roepnaam {renamed.first_name}\s*→\s*(wordt\s*)?{new_name}"))
        assert active_pupils(school) == 120  # nothing happens before the night
        screenshots(page, "preview")

        # A file of one group only: held, with the plain warning and the two choices.
        upload(page, one_group)
        held = manual.get_by_role("alert")
        expect(held).to_contain_text("Het wacht op jouw bevestiging")
        expect(held).to_contain_text("105 van de 120 leerlingen")
        history = page.get_by_role("region", name="Eerdere imports")
        expect(history.get_by_role("row").nth(1)).to_contain_text("Wacht op bevestiging")
        screenshots(page, "held")
        held.get_by_role("button", name="Annuleren").click()
        expect(page.get_by_role("status").filter(has_text="geannuleerd")).to_contain_text(
            "Er is niets gewijzigd")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Import van")
        expect(page.get_by_text("Geannuleerd", exact=True)).to_be_visible()
        assert active_pupils(school) == 120

        # The same file again, this time confirmed from the history's link.
        upload(page, one_group)
        expect(manual.get_by_role("alert")).to_contain_text("105 van de 120 leerlingen")
        history.get_by_role("row").nth(1).get_by_role(
            "link", name="Bevestigen of annuleren").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Import van")
        screenshots(page, "held-details")
        page.get_by_role("alert").get_by_role("button", name="Toch verwerken").click()
        expect(page.get_by_role("status").filter(has_text="Bevestigd")).to_contain_text(
            "Het bestand is goedgekeurd en wordt vannacht verwerkt")
        expect(page.get_by_text("Wacht op nachtelijke verwerking", exact=True)).to_be_visible()
        assert active_pupils(school) == 120

        # The night: the December file, then the confirmed one (oldest first).
        processed = services.process_waiting_imports()
        assert [record.status for record in processed] == [Status.PROCESSED] * 2
        open_tab(page, "Leerlingen")
        expect(page.get_by_role("status").filter(has_text="actieve")).to_have_text(
            "15 actieve leerlingen.")
        expect(page.locator("#pupil-results tbody").get_by_role("row")).to_have_count(15)
        assert active_pupils(school) == 15
