"""The school's pupil-page address is built once (issue 12, `klaspoort.addresses.pupil_page_url`):
the printed card's text, its QR code, the group panel and the shortcuts all name Klaspoort's
configured public address, whatever host the coordinator or teacher used."""

from __future__ import annotations

from typing import Any

import pytest
import segno
from django.test import Client
from django.urls import reverse
from lxml import html

from klaspoort import addresses
from klaspoort.schools.models import PublisherConsent
from klaspoort.signin import services
from tests.factories import TeacherFactory, UserFactory
from tests.licences.factories import ContractFactory
from tests.signin.test_shortcuts import archive, ini, opens

pytestmark = pytest.mark.django_db

# A public address unlike the test client's host ("testserver"); *.localhost keeps the
# installation a development one (no production keys needed).
PUBLIC = "http://klaspoort.localhost:8000"


@pytest.fixture(autouse=True)
def _public_address(settings):
    settings.SITE_URL = PUBLIC


@pytest.fixture
def qr_payloads(monkeypatch) -> list[str]:
    """Every string the page gave the QR generator (segno decodes nothing; this is its input)."""
    given: list[str] = []
    real = segno.make

    def spy(content: Any, *args: Any, **kwargs: Any) -> Any:
        given.append(content)
        return real(content, *args, **kwargs)

    monkeypatch.setattr(services.segno, "make", spy)
    return given


def teacher_of(group: Any) -> Client:
    teacher = TeacherFactory(school=group.school, user=UserFactory())
    teacher.groups.add(group)
    client = Client()
    client.force_login(teacher.user)
    return client


def expected(school: Any) -> str:
    return f"{PUBLIC}/leerling/{school.pupil_page_ref}/"


def card_texts(content: str) -> list[str]:
    return [strong.text_content() for strong in
            html.fromstring(content).xpath('//*[@class="pupil-card__address"]/strong')]


def panel_address(content: str) -> str:
    code, = html.fromstring(content).xpath('//*[@class="signin-settings"]//code')
    return str(code.text_content())


def test_the_rule(klas):
    assert addresses.pupil_page_url(klas.school) == expected(klas.school)
    assert addresses.pupil_page_url(klas.school, 7) == expected(klas.school) + "?next=7"


@pytest.mark.parametrize("who", ["coordinator", "teacher"])
def test_a_printed_cards_text_and_qr_code_name_the_same_address(
        coordinator_client, klas, qr_payloads, who):
    if who == "coordinator":
        page = coordinator_client.get(reverse("signin:print_cards",
                                              args=[klas.school.brin6, klas.kleuters.pk]))
    else:
        page = teacher_of(klas.kleuters).get(
            reverse("teacher:print_cards", args=[klas.kleuters.pk]))
    content = page.content.decode()

    text, = card_texts(content)
    payload, = qr_payloads
    assert text == expected(klas.school)
    # The QR code opens the card's own page under that very address.
    assert payload.startswith(text + "kaart/")
    assert payload.removeprefix(text + "kaart/").count("/") == 1
    # And the code on the page is the one made of that payload.
    assert str(services.qr_svg(payload, "x")).split("</title>", 1)[1] in content


def test_the_group_panel_and_the_shortcuts_show_the_same_address(coordinator_client, klas):
    school = klas.school
    coordinator_panel = coordinator_client.get(
        reverse("roster:group", args=[school.brin6, klas.kleuters.pk])).content.decode()
    assert panel_address(coordinator_panel) == expected(school)

    teacher_panel = teacher_of(klas.kleuters).get(
        reverse("teacher:group", args=[klas.kleuters.pk])).content.decode()
    assert panel_address(teacher_panel) == expected(school)

    index = coordinator_client.get(reverse("shortcuts:index", kwargs={"brin6": school.brin6}))
    codes = [c.text_content() for c in html.fromstring(index.content.decode()).xpath(
        '//*[@class="shortcuts__addresses"]//code')]
    assert expected(school) in codes

    contract = ContractFactory(school=school)
    PublisherConsent.objects.create(school=school, publisher=contract.publisher,
                                    given_at=contract.created_at)
    zipped = archive(coordinator_client.get(
        reverse("shortcuts:pupils", kwargs={"brin6": school.brin6})))
    windows, = [name for name in zipped.namelist() if name.endswith(".url")]
    assert opens(ini(zipped.read(windows))["InternetShortcut"]["URL"]) == (
        expected(school), {"next": [str(contract.product_id)]})
