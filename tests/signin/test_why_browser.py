"""*Waarom kan … niet openen?* in a real browser: from *Licentiebeheer* a coordinator finds the
pupil, sees the broken link named and follows its button to the page that fixes it; axe-core
finds no WCAG 2.2 AA violation on the page."""

from __future__ import annotations

import datetime
import os

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from klaspoort.licences.models import GroupLicence
from tests.browser_support import (
    assert_no_axe_violations,
    chromium_page,
    needs_chromium,
    screenshots,
    sign_in,
)
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_coordinator_finds_the_broken_link_and_its_fix(live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    group = GroupFactory(school=school, name="Groep 5")
    PupilFactory(school=school, group=group, first_name="Sam", last_name="Bakker")
    today = timezone.localdate()
    contract = ContractFactory(school=school, product=ProductFactory(name="Pluspunt"),
                               start=today - datetime.timedelta(days=10),
                               end=today + datetime.timedelta(days=100))
    GroupLicence.objects.create(contract=contract, group=group)  # the publisher is not ticked

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        page.goto(live_server.url + reverse("licences:contracts", args=[school.brin6]))
        page.get_by_role("link", name="Waarom kan … niet openen?").click()
        page.get_by_label("Naam of sleutel van de leerling of leerkracht").fill("Bakker")
        page.get_by_label("Methode").select_option(label=f"Pluspunt ({contract.publisher.name})")
        page.get_by_role("button", name="Controleren").click()

        expect(page.get_by_role("heading", level=2, name="Sam Bakker kan Pluspunt niet "
                                "openen: “Uitgeverij aangevinkt” klopt niet.")).to_be_visible()
        assert_no_axe_violations(page, "waarom: uitgeverij niet aangevinkt")
        screenshots(page, "why-coordinator")
        page.get_by_role("link", name="Uitgeverijen").last.click()
        expect(page).to_have_url(live_server.url + reverse("schools:publishers",
                                                           args=[school.brin6]))
