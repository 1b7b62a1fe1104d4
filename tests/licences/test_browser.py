"""A coordinator links a group and a child to licences in a real browser and sees the counts in
the *Licentiebeheer* table change."""

from __future__ import annotations

import datetime
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from klaspoort.licences.models import ChildLicence, Contract, GroupLicence, Product
from tests.browser_support import chromium_page, needs_chromium, screenshots
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
)
from tests.licences.factories import (
    ContractFactory,
    ProductFactory,
    PublisherFactory,
    PublisherMemberFactory,
)
from tests.licences.test_icons import png

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def counts(page: Page, number: str) -> tuple[str, str]:
    """The Groepen and Kinderen cells of a contract's row."""
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=number))
    return (row.locator('td[data-label="groups"]').inner_text(),
            row.locator('td[data-label="children"]').inner_text())


def test_a_coordinator_links_a_group_and_a_child_and_sees_the_counts_change(
        live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    group5 = GroupFactory(school=school, name="Groep 5", jaargroep="5")
    group6 = GroupFactory(school=school, name="Groep 6", jaargroep="6")
    PupilFactory(school=school, group=group5, first_name="Sem", last_name="Bakker")
    child = PupilFactory(school=school, group=group6, first_name="Noor", last_name="de Jong")
    malmberg = PublisherFactory(name="Malmberg", slug="malmberg")
    noordhoff = PublisherFactory(name="Noordhoff", slug="noordhoff")
    start = timezone.localdate() - datetime.timedelta(days=30)
    end = timezone.localdate() + datetime.timedelta(days=700)
    contract = ContractFactory(
        school=school, number="MB-100201", title="Pluspunt 4 oefensoftware", start=start,
        end=end, product=ProductFactory(publisher=malmberg, name="Pluspunt 4", year_groups=[]))
    ContractFactory(school=school, number="NH-5500321", title="Wereld in getallen 5",
                    start=start, end=end,
                    product=ProductFactory(publisher=noordhoff, name="Wereld in getallen 5"))

    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill("ict@regenboog.example")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_role("navigation", name="Beheer").get_by_role(
            "link", name="Licentiebeheer", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Licentiebeheer")
        assert counts(page, "MB-100201") == ("0", "0")

        # The filter updates the table in place and the address follows it.
        page.get_by_label("Uitgeverij").select_option(label="Noordhoff")
        expect(page.get_by_role("rowheader", name="MB-100201")).to_have_count(0)
        expect(page.get_by_role("rowheader", name="NH-5500321")).to_be_visible()
        expect(page).to_have_url(re.compile(rf"uitgeverij={noordhoff.pk}"))
        page.get_by_label("Uitgeverij").select_option(label="Alle uitgeverijen")
        expect(page.get_by_role("rowheader", name="MB-100201")).to_be_visible()
        screenshots(page, "licenties-01-per-groep")

        # Groep toevoegen.
        page.get_by_role("link", name="MB-100201").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Pluspunt 4 oefensoftware")
        page.get_by_label("Groep 5").check()
        page.get_by_role("button", name="Toevoegen").click()
        expect(page.get_by_role("status")).to_contain_text("Groep 5 is aan deze licentie gekoppeld")
        expect(page.get_by_role("row", name=re.compile("Groep 5"))).to_contain_text("handmatig")
        screenshots(page, "licenties-02-groepen-gekoppeld")

        # Kind toevoegen: choose the group, htmx brings its children, then the child.
        page.get_by_role("link", name=re.compile("Kinderen gekoppeld")).click()
        page.get_by_label("1. Kies de groep van het kind").select_option(label="Groep 6")
        choose_child = page.get_by_label("2. Kies het kind (uit Groep 6)")
        expect(choose_child).to_be_visible()
        choose_child.select_option(label=child.sort_name)
        page.get_by_role("button", name="Toevoegen").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Noor de Jong is aan deze licentie gekoppeld")
        expect(page.get_by_role("table", name="Kinderen gekoppeld aan deze licentie")
               ).to_contain_text(child.sort_name)
        expect(page.get_by_text("Een kindlicentie kun je niet zelf ontkoppelen")).to_be_visible()
        screenshots(page, "licenties-03-kinderen-gekoppeld")

        page.get_by_role("link", name="Licenties (per groep)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Licentiebeheer")
        assert counts(page, "MB-100201") == ("1", "1")
        assert counts(page, "NH-5500321") == ("0", "0")

    assert GroupLicence.objects.get(contract=contract).group == group5
    assert ChildLicence.objects.get(contract=contract).pupil == child
    assert Contract.objects.get(pk=contract.pk).cancelled_at is None


def test_a_publisher_uploads_contracts_gives_a_product_its_icon_and_unlinks_a_child(
        live_server, transactional_db):
    """The publisher's journey with JavaScript on. Issue 11: the CSV upload used to do nothing
    with JavaScript on (its htmx target was missing) and now takes Dutch headers and values
    (item 3); the product form has proper fields and capitalised labels, and takes an icon that
    pupils see instead of the letter (items 4 and 8); the helpdesk's Ontkoppelen asks first, in
    place, with the seats after (item 2)."""
    SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    publisher = PublisherFactory(name="Malmberg", slug="malmberg")
    member = PublisherMemberFactory(publisher=publisher, user__email="beheer@malmberg.example")
    data = (b"Contractnummer;BRIN6;Uitgeverij;Productcode;Productnaam;Productsoort;Jaargroepen;"
            b"Titel;Startdatum;Einddatum;Soort;Aantal licenties\r\n"
            b"MB-1;99ZZ00;;PP4;Pluspunt 4;oefensoftware;4;Pluspunt 4;1-8-2026;31-7-2027;"
            b"per groep;\r\n"
            b"MB-2;99ZZ00;;RT;Rekentuin;oefensoftware;;Rekentuin plus;1-8-2026;31-7-2027;"
            b"per kind;25\r\n")

    with chromium_page() as page:
        javascript_errors: list[str] = []
        page.on("pageerror", lambda error: javascript_errors.append(str(error)))
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill(member.user.email)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_role("link", name="Contracten", exact=True).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Contracten")
        address = page.url
        page.locator("#contracts-file").set_input_files(
            {"name": "contracten.csv", "mimeType": "text/csv", "buffer": data})
        page.get_by_role("button", name="Uploaden en controleren").first.click()
        expect(page.get_by_role("status").filter(has_text="Verwerkt")).to_contain_text(
            "2 nieuw")
        # htmx put the answer in place: still the contracts page, no full page load.
        assert page.url == address
        assert javascript_errors == []
        screenshots(page, "uitgever-01-upload-verwerkt")
        assert set(Contract.objects.filter(publisher=publisher).values_list(
            "number", "contract_type", "seats")) == {("MB-1", "group", None),
                                                     ("MB-2", "child", 25)}

        # Producten: the product the upload made gets its icon.
        page.get_by_role("link", name="Producten", exact=True).first.click()
        page.get_by_role("link", name=re.compile("Pluspunt 4")).first.click()
        form = page.locator("main form.card")
        labels = [text.strip() for text in form.locator(".field > label, legend").all_inner_texts()]
        assert labels and all(text[:1].isupper() or text[:1].isdigit() for text in labels), labels
        name_box = form.get_by_label("Naam", exact=True).bounding_box()
        assert name_box is not None and name_box["width"] >= 240 and name_box["height"] >= 32
        form.get_by_label("Icoon", exact=True).set_input_files(
            {"name": "pluspunt.png", "mimeType": "image/png", "buffer": png(128, 128)})
        form.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_role("status")).to_be_visible()
        page.get_by_role("link", name=re.compile("Pluspunt 4")).first.click()
        expect(page.get_by_role("img", name="Huidig icoon")).to_be_visible()
        screenshots(page, "uitgever-02-product-icoon")

        # Helpdesk: a school linked a child to the per-child contract; Ontkoppelen asks first.
        contract = Contract.objects.get(publisher=publisher, number="MB-2")
        licence = ChildLicence.objects.create(contract=contract, pupil=PupilFactory(
            school=contract.school, first_name="Noor", last_name="Bakker"))
        page.get_by_role("link", name="Helpdesk", exact=True).first.click()
        page.get_by_label("BRIN6").fill("99ZZ00")
        page.get_by_role("button", name="Opzoeken").click()
        address = page.url
        page.get_by_role("button", name=re.compile("^Ontkoppelen Noor B.")).click()
        question = page.locator("#confirm")
        expect(question).to_contain_text("Noor B. kan Rekentuin plus dan niet meer openen")
        expect(question).to_contain_text("De plaats komt vrij: daarna 0 van 25 in gebruik.")
        assert page.url == address
        assert ChildLicence.objects.get(pk=licence.pk).removed_at is None
        screenshots(page, "uitgever-03-ontkoppelen-bevestigen")
        question.get_by_role("button", name="Ja, ontkoppel Noor B.").click()
        expect(page.get_by_role("status")).to_be_visible()
        assert javascript_errors == []

    assert Product.objects.get(publisher=publisher, code="PP4").icon is not None
    assert ChildLicence.objects.get(pk=licence.pk).removed_at is not None


def test_irreversible_licence_actions_ask_in_place_with_javascript_on(
        live_server, transactional_db):
    """Issue 11, item 2: Kind toevoegen on a per-child licence and removing a group ask first,
    in place, with the numbers; "Nee, terug" changes nothing, "Ja, …" does it."""
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    group = GroupFactory(school=school, name="Groep 6", jaargroep="6")
    child = PupilFactory(school=school, group=group, first_name="Noor", last_name="de Jong")
    PupilFactory(school=school, group=group)
    malmberg = PublisherFactory(name="Malmberg", slug="malmberg")
    start = timezone.localdate() - datetime.timedelta(days=30)
    end = timezone.localdate() + datetime.timedelta(days=700)
    per_child = ContractFactory(
        school=school, number="MB-200", title="Taal actief 6", start=start, end=end,
        contract_type=Contract.Type.CHILD, seats=10,
        product=ProductFactory(publisher=malmberg, name="Taal actief 6", year_groups=[]))
    per_group = ContractFactory(
        school=school, number="MB-300", title="Pluspunt 6", start=start, end=end,
        product=ProductFactory(publisher=malmberg, name="Pluspunt 6", year_groups=[]))
    GroupLicence.objects.create(contract=per_group, group=group, automatic=False)

    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill("ict@regenboog.example")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.goto(f"{live_server.url}/beheer/{school.brin6}/licenties/{per_child.pk}/kinderen/")
        address = page.url
        page.get_by_label("1. Kies de groep van het kind").select_option(label="Groep 6")
        page.get_by_label("2. Kies het kind (uit Groep 6)").select_option(label=child.sort_name)
        page.get_by_role("button", name="Toevoegen").click()
        question = page.locator("#confirm")
        expect(question).to_contain_text(
            "Dit gebruikt 1 van de 10 plaatsen; alleen de uitgeverij kan die weer vrijmaken.")
        expect(question).to_be_focused()
        assert page.url == address  # in place: the same page
        assert not ChildLicence.objects.exists()
        screenshots(page, "licenties-04-kind-toevoegen-bevestigen")
        question.get_by_role("button", name="Ja, koppel Noor de Jong").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Noor de Jong is aan deze licentie gekoppeld")

        page.goto(f"{live_server.url}/beheer/{school.brin6}/licenties/{per_group.pk}/")
        page.get_by_role("button", name="Groep 6 loskoppelen van deze licentie").click()
        expect(page.locator("#confirm")).to_contain_text(
            "2 leerlingen van Groep 6 hebben deze licentie dan niet meer.")
        page.get_by_role("link", name="Nee, terug").click()
        expect(page.locator("#confirm")).to_have_count(0)
        assert GroupLicence.objects.filter(removed_at__isnull=True).count() == 1
        page.get_by_role("button", name="Groep 6 loskoppelen van deze licentie").click()
        page.get_by_role("button", name="Ja, verwijder Groep 6").click()
        expect(page.get_by_role("status")).to_contain_text("Groep 6 is niet meer")

    assert ChildLicence.objects.get().pupil == child
    assert not GroupLicence.objects.filter(removed_at__isnull=True).exists()
