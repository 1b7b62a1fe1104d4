"""The whole of issue 5 in a real browser (Debian chromium through Playwright) against a real
client: the example publisher application (examples/publisher_app) on its own port beside
Klaspoort's live server.

(a) a kleuter of group 1-2 opens the school's pupil page, taps the group, the own name and two
    pictures, lands on *Lesmateriaal*, taps the method and is welcomed by name at the publisher;
(b) a teacher with an authenticator app signs in with e-mail, password and code through the
    teacher shortcut, and opens the method of the group from the portal.

Screenshots of the pupil's steps on a tablet and a whiteboard: e2e-*.png (make screenshots).
"""

from __future__ import annotations

import os
import re
from typing import Any
from wsgiref.simple_server import WSGIServer

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from examples.publisher_app import Config, make_app
from klaspoort.licences.models import GroupLicence
from klaspoort.roster import secrets
from klaspoort.roster.models import TeacherGroup
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from klaspoort.sso.services import register_client
from tests.browser_support import SCREENSHOT_DIR, chromium_page, needs_chromium, screenshot
from tests.factories import PASSWORD, GroupFactory, PupilFactory, SchoolFactory, TeacherFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = {"tablet": {"width": 1024, "height": 768}, "whiteboard": {"width": 1920, "height": 1080}}
TEACHER_EMAIL = "m.visser@regenboog.example"


def shot(page: Page, step: str) -> None:
    """The step as a tablet and an interactive whiteboard show it, to look at by eye."""
    if SCREENSHOT_DIR is None:  # only when asked: resizing twice slows the test
        return
    original = page.viewport_size
    for device, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"e2e-{step}-{device}")
    if original:
        page.set_viewport_size(original)


@pytest.fixture
def kleuters(transactional_db: Any, issuer: str, example_server: WSGIServer) -> dict[str, Any]:
    """A school whose group 1-2 has the example publisher's method, built from factories (a
    transactional test starts without the catalogue the data migrations add)."""
    cache.clear()  # no sign-in throttling left over from another test
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    school = SchoolFactory(name="Basisschool De Regenboog")
    # The live server sees the browser at a loopback address: the school's network here (the
    # Beheer form refuses loopback addresses, as it should).
    SchoolNetwork.objects.create(school=school, network="127.0.0.0/8")
    SchoolNetwork.objects.create(school=school, network="::1/128")
    group = GroupFactory(school=school, name="Groep 1-2", jaargroep="1",
                         signin_method=secrets.PICTURES)
    GroupFactory(school=school, name="Groep 3", jaargroep="3")
    for name in ("Ayla", "Bram", "Daan", "Emma"):
        PupilFactory(school=school, group=group, first_name=name, jaargroep="1")
    sam = PupilFactory(school=school, group=group, first_name="Sam", last_name="Bakker",
                       jaargroep="1")
    sam.signin_secret = secrets.encrypt(f"{secrets.PICTURES}:3-11")
    sam.save()
    publisher = PublisherFactory(name="Uitgeverij Voorbeeld")
    product = ProductFactory(publisher=publisher, code="KLEUTER12", name="Kleuterplein",
                             year_groups=[1, 2], launch_url=f"{app_url}/login")
    GroupLicence.objects.create(contract=ContractFactory(product=product, school=school),
                                group=group)
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    registered = register_client(publisher, "Voorbeeld", [f"{app_url}/callback"])
    example_server.set_app(make_app(Config(
        issuer=issuer, client_id=registered.client_id, client_secret=registered.client_secret,
        redirect_uri=f"{app_url}/callback", name="Uitgeverij Voorbeeld (demo)")))
    return {"school": school, "group": group, "product": product, "app_url": app_url}


def test_a_kleuter_signs_in_with_pictures_and_opens_the_method_at_the_publisher(
        live_server, kleuters):
    school, app_url = kleuters["school"], kleuters["app_url"]

    with chromium_page() as page:
        page.set_viewport_size(SIZES["tablet"])
        page.goto(live_server.url + reverse("signin:pupil_page", args=[school.pupil_page_ref]))
        expect(page.locator(".kid-tile", has_text="Groep 1-2")).to_be_visible()
        shot(page, "1-groups")
        page.locator(".kid-tile", has_text="Groep 1-2").click()
        expect(page.locator(".kid-tile", has_text="Sam B.")).to_be_visible()
        shot(page, "2-names")
        page.locator(".kid-tile", has_text="Sam B.").click()
        expect(page.locator("button.kid-picture")).to_have_count(16)
        shot(page, "3-pictures")
        page.locator('button.kid-picture[value="3"]').click()
        expect(page.locator(".kid-slot--filled")).to_have_count(1)
        page.locator('button.kid-picture[value="11"]').click()

        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        tile = page.locator(".portal-tile", has_text="Kleuterplein")
        expect(tile).to_be_visible()
        shot(page, "4-portal")
        tile.click()

        expect(page).to_have_url(f"{app_url}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Welkom bij Uitgeverij Voorbeeld (demo)")
        expect(page.locator(".given-name")).to_have_text("Sam")
        expect(page.locator(".role")).to_have_text("leerling")
        expect(page.locator(".claims")).to_contain_text('"role": "pupil"')
        expect(page.locator("code", has_text="KLEUTER12")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("Bakker")  # the initial only
        shot(page, "5-publisher")


def test_a_teacher_with_an_authenticator_app_opens_the_method_of_the_group(live_server, kleuters):
    app_url = kleuters["app_url"]
    teacher = TeacherFactory(school=kleuters["school"], first_name="Marieke", last_name="Visser",
                             email=TEACHER_EMAIL, user__email=TEACHER_EMAIL,
                             user__password=make_password(PASSWORD))
    TeacherGroup.objects.create(teacher=teacher, group=kleuters["group"])
    device = TOTPDevice.objects.create(user=teacher.user, name="app", confirmed=True)
    code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"

    with chromium_page() as page:
        page.goto(live_server.url + reverse("signin:teacher_shortcut"))
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/"))
        page.get_by_label("E-mailadres").fill(TEACHER_EMAIL)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()

        expect(page).to_have_url(re.compile(r"/accounts/inloggen/code/"))
        page.get_by_label("Code", exact=True).fill(code)
        page.get_by_role("button", name="Verder").click()

        expect(page).to_have_url(re.compile(r"/lesmateriaal/$"))
        section = page.locator(".portal-group", has_text="Groep 1-2")
        expect(section.locator(".portal-tile__name")).to_have_text(["Kleuterplein"])
        section.locator(".portal-tile", has_text="Kleuterplein").click()

        expect(page).to_have_url(f"{app_url}/")
        expect(page.locator(".given-name")).to_have_text("Marieke")
        expect(page.locator(".role")).to_have_text("leerkracht")
        expect(page.locator(".claims")).to_contain_text('"role": "teacher"')
        expect(page.locator("code", has_text="KLEUTER12")).to_be_visible()
