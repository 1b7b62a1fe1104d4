"""*Lesmateriaal*: exactly the products the user may open, fresh on every load; maintenance
notices; the teacher shortcut."""

from __future__ import annotations

import datetime
import hashlib
import json
import struct
import zlib
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from klaspoort.exchange.models import PublisherApiToken
from klaspoort.licences.models import GroupLicence, Product, ProductIcon
from klaspoort.schools.models import PublisherConsent, SchoolMembership
from klaspoort.signin.models import MaintenanceNotice
from tests.factories import TeacherFactory, UserFactory
from tests.licences.factories import ContractFactory, ProductFactory

pytestmark = pytest.mark.django_db
XPATH_NAME = ".//span[@class='portal-tile__name']"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# A 32 by 32 grey PNG, as a publisher would upload it.
PNG_32 = (b"\x89PNG\r\n\x1a\n"
          + _chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0))
          + _chunk(b"IDAT", zlib.compress((b"\x00" + b"\x80" * 32) * 32))
          + _chunk(b"IEND", b""))


def licensed(school: Any, name: str, *, consent: bool = True, end: Any = None,
             **product: Any) -> Any:
    extra = {"end": end} if end else {}
    contract = ContractFactory(school=school, product=ProductFactory(name=name, **product),
                               **extra)
    if consent:
        PublisherConsent.objects.get_or_create(
            school=school, publisher=contract.publisher, defaults={"given_at": timezone.now()})
    return contract


def tiles(response: Any) -> list[str]:
    assert response.status_code == 200
    tree = html.fromstring(response.content.decode())
    return [name.text_content() for name in tree.xpath(XPATH_NAME)]


def test_the_portal_needs_a_sign_in(client):
    response = client.get(reverse("signin:portal"))
    assert response.status_code == 302 and "inloggen" in response["Location"]


def test_a_pupil_sees_exactly_the_licensed_products_and_a_new_licence_at_once(client, klas):
    rekenen = licensed(klas.school, "Pluspunt", product_type=Product.Type.PRACTICE)
    taal = licensed(klas.school, "Taal actief", product_type=Product.Type.TESTS)
    no_consent = licensed(klas.school, "Zonder toestemming", consent=False)
    ended = licensed(klas.school, "Afgelopen", end=timezone.localdate() - datetime.timedelta(1))
    other_group = licensed(klas.school, "Voor groep 1-2")
    for contract in (rekenen, taal, no_consent, ended):
        GroupLicence.objects.create(contract=contract, group=klas.groep6)
    GroupLicence.objects.create(contract=other_group, group=klas.kleuters)
    client.force_login(klas.noor.user)
    response = client.get(reverse("signin:portal"))
    assert sorted(tiles(response)) == ["Pluspunt", "Taal actief"]
    page = response.content.decode()
    assert "Oefensoftware" in page or "practice software" in page.lower()
    assert f'href="/lesmateriaal/open/{rekenen.product_id}/"' in page
    assert rekenen.publisher.name in page
    # Linked a moment ago: shown at the next load.
    later = licensed(klas.school, "Nieuw blok")
    GroupLicence.objects.create(contract=later, group=klas.groep6)
    assert "Nieuw blok" in tiles(client.get(reverse("signin:portal")))


def test_tiles_show_the_icon_klaspoort_stores_never_one_from_the_publishers_server(
        client, klas):
    """Issue 10, finding 10 (decision 0021): the icon comes from /icoon/ on Klaspoort; a
    product without a stored icon shows its letter; an address a publisher sent through the
    API is never put in a page."""
    with_icon = licensed(klas.school, "Pluspunt")
    without = licensed(klas.school, "Taal actief")
    for contract in (with_icon, without):
        GroupLicence.objects.create(contract=contract, group=klas.groep6)
    # A publisher's API call with its own icon address: accepted and ignored.
    _row, token = PublisherApiToken.issue(with_icon.publisher, "crm")
    put = client.put(f"/api/publisher/v1/products/{with_icon.product.code}",
                     json.dumps({"name": "Pluspunt",
                                 "icon_url": "https://uitgever.example/pluspunt.svg"}),
                     content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert put.status_code == 200, put.content
    data = PNG_32
    ProductIcon.objects.create(product=with_icon.product, content_type="image/png", data=data,
                               sha256=hashlib.sha256(data).hexdigest(), width=32, height=32)
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.groep6)
    for user in (klas.noor.user, teacher.user):
        client.force_login(user)
        page = client.get(reverse("signin:portal")).content.decode()
        tree = html.fromstring(page)
        sources = tree.xpath("//img[contains(@class, 'portal-tile__icon')]/@src")
        assert sources == [f"/icoon/{with_icon.product_id}/"
                           f"{hashlib.sha256(data).hexdigest()[:16]}.png"]
        assert client.get(sources[0]).content == data
        letters = tree.xpath("//span[contains(@class, 'portal-tile__letter')]/text()")
        assert letters == ["T"]
        assert "uitgever.example" not in page


def test_a_teacher_sees_tiles_per_group_with_the_cards_link(client, klas):
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.kleuters, klas.groep6)
    kleuter = licensed(klas.school, "Kleuterplein")
    groep6 = licensed(klas.school, "Pluspunt")
    GroupLicence.objects.create(contract=kleuter, group=klas.kleuters)
    GroupLicence.objects.create(contract=groep6, group=klas.groep6)
    client.force_login(teacher.user)
    response = client.get(reverse("signin:portal"))
    tree = html.fromstring(response.content.decode())
    sections = {s.xpath(".//h2")[0].text_content(): [n.text_content() for n in
                                                     s.xpath(XPATH_NAME)]
                for s in tree.xpath(".//section[contains(@class, 'portal-group')]")}
    assert sections == {"Groep 1-2": ["Kleuterplein"], "Groep 6": ["Pluspunt"]}
    assert reverse("teacher:print_cards", args=[klas.kleuters.pk]) in response.content.decode()
    assert "portal-beheer" not in response.content.decode()
    SchoolMembership.objects.create(user=teacher.user, school=klas.school)
    page = client.get(reverse("signin:portal")).content.decode()
    assert f'portal-beheer" href="{reverse("schools:home")}"' in page


def test_maintenance_is_announced_on_the_portal_and_the_pupil_page(client, klas):
    now = timezone.now()
    MaintenanceNotice.objects.create(message="Zaterdag onderhoud aan Klaspoort.",
                                     starts_at=now + datetime.timedelta(days=2),
                                     ends_at=now + datetime.timedelta(days=2, hours=3))
    MaintenanceNotice.objects.create(message="Al voorbij.", starts_at=now - datetime.timedelta(2),
                                     ends_at=now - datetime.timedelta(1))
    MaintenanceNotice.objects.create(message="Pas over een maand.",
                                     starts_at=now + datetime.timedelta(days=30),
                                     ends_at=now + datetime.timedelta(days=30, hours=1))
    page = client.get(klas.page(), REMOTE_ADDR="145.10.20.30").content.decode()
    assert "Zaterdag onderhoud" in page
    assert "Al voorbij" not in page and "over een maand" not in page
    client.force_login(klas.noor.user)
    page = client.get(reverse("signin:portal")).content.decode()
    assert "Zaterdag onderhoud" in page and "Al voorbij" not in page


def test_an_operator_edits_notices_in_the_admin(admin_client):
    response = admin_client.post(reverse("admin:signin_maintenancenotice_add"), {
        "message": "Onderhoud", "starts_at_0": "2030-01-05", "starts_at_1": "08:00",
        "ends_at_0": "2030-01-05", "ends_at_1": "07:00"})
    assert response.status_code == 200 and not MaintenanceNotice.objects.exists()
    response = admin_client.post(reverse("admin:signin_maintenancenotice_add"), {
        "message": "Onderhoud", "starts_at_0": "2030-01-05", "starts_at_1": "08:00",
        "ends_at_0": "2030-01-05", "ends_at_1": "10:00"})
    assert response.status_code == 302
    assert MaintenanceNotice.objects.get().created_by.is_superuser


def test_the_teacher_shortcut_goes_to_the_staff_sign_in_then_the_portal(client, klas):
    response = client.get(reverse("signin:teacher_shortcut"))
    login = reverse("accounts:login")
    assert response["Location"] == f"{login}?next=%2Flesmateriaal%2F"
    response = client.get(reverse("signin:teacher_shortcut") + "?next=7")
    assert response["Location"] == f"{login}?next=%2Flesmateriaal%2Fopen%2F7%2F"
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    client.force_login(teacher.user)
    assert client.get(reverse("signin:teacher_shortcut"))["Location"] == "/lesmateriaal/"
