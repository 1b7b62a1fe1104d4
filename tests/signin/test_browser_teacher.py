"""A teacher signs in in a real browser and opens *Lesmateriaal* from the header (issue 11,
item 1): the tiles of their groups, and a tile opens the method; in *Mijn groepen* she types a
pincode for one pupil, and a trivial one is refused in Dutch (item 9). Screenshots (make
screenshots): teacher-lesmateriaal-*.png, teacher-pincode-*.png."""

from __future__ import annotations

import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from klaspoort.licences.models import GroupLicence
from klaspoort.roster import secrets
from klaspoort.schools.models import PublisherConsent
from tests.browser_support import chromium_page, needs_chromium, screenshots
from tests.factories import (
    PASSWORD,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.licences.factories import ContractFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_teacher_opens_lesmateriaal_from_the_header(live_server, transactional_db):
    school = SchoolFactory(name="Basisschool De Regenboog")
    group = GroupFactory(school=school, name="Groep 6", jaargroep="6",
                         signin_method=secrets.PINCODE)
    anouk = PupilFactory(school=school, group=group, first_name="Anouk", last_name="Smit",
                         jaargroep="6", signin_secret=secrets.encrypt("pincode:48213"))
    teacher = TeacherFactory(school=school, user=UserFactory(email="m.visser@regenboog.example",
                                                             display_name="Marieke Visser"))
    teacher.groups.add(group)
    contract = ContractFactory(school=school, product__name="Wereld in getallen 5",
                               product__launch_url="https://uitgever.example/start")
    PublisherConsent.objects.create(school=school, publisher=contract.publisher,
                                    given_at=timezone.now())
    GroupLicence.objects.create(contract=contract, group=group)

    with chromium_page() as page:
        page.goto(live_server.url + "/accounts/inloggen/")
        page.get_by_label("E-mailadres").fill("m.visser@regenboog.example")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Inloggen")
        header = page.locator("header.site-header")
        header.get_by_role("link", name="Lesmateriaal", exact=True).click()
        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Lesmateriaal")
        expect(header.get_by_role("link", name="Lesmateriaal", exact=True)).to_have_attribute(
            "aria-current", "page")
        group_section = page.get_by_role("region", name="Groep 6")
        tile = group_section.get_by_role("link", name=re.compile("Wereld in getallen 5"))
        expect(tile).to_be_visible()
        screenshots(page, "teacher-lesmateriaal")
        # The tile opens the method: single sign-on starts at the publisher's address.
        with page.expect_request(re.compile(r"^https://uitgever\.example/start")) as request:
            page.route(re.compile(r"^https://uitgever\.example/"),
                       lambda route: route.fulfill(status=200, body="methode"))
            tile.click()
        assert "login_hint=" in request.value.url

        # Mijn groepen: a pincode typed for one pupil; a trivial one is refused first.
        page.goto(live_server.url + "/")
        header.get_by_role("link", name="Mijn groepen", exact=True).click()
        page.get_by_role("link", name="Groep 6").first.click()
        chooser = page.get_by_role("group", name="Kies een pincode voor één leerling")
        chooser.get_by_label("Leerling").select_option(label=anouk.sort_name)
        chooser.get_by_label("Pincode").fill("12345")
        chooser.get_by_role("button", name="Pincode opslaan").click()
        expect(page.get_by_text(re.compile("telt op of af"))).to_be_visible()
        assert secrets.decrypt(type(anouk).objects.get(pk=anouk.pk).signin_secret) == (
            "pincode:48213")
        chooser.get_by_label("Leerling").select_option(label=anouk.sort_name)
        chooser.get_by_label("Pincode").fill("31415")
        chooser.get_by_role("button", name="Pincode opslaan").click()
        expect(page.get_by_text("Anouk Smit heeft de pincode die je koos.")).to_be_visible()
        screenshots(page, "teacher-pincode")
    assert secrets.decrypt(type(anouk).objects.get(pk=anouk.pk).signin_secret) == "pincode:31415"
