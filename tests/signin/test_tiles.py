"""Pupils' tiles as a child reads them (issue 11, item 4): every name in a group different on
screen, no break inside a name or group name, and only the products meant for pupils."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from lxml import html

from klaspoort.licences.models import GroupLicence, Product
from tests.factories import GroupFactory, PupilFactory, TeacherFactory, UserFactory
from tests.signin.conftest import SCHOOL_IP
from tests.signin.test_portal import licensed, tiles

pytestmark = pytest.mark.django_db


def _tile_texts(response: Any) -> list[str]:
    assert response.status_code == 200
    tree = html.fromstring(response.content.decode())
    return [tile.text_content().strip() for tile in tree.xpath("//a[contains(@class, 'kid-tile')]")]


def test_two_pupils_with_the_same_first_name_and_initial_get_different_tiles(client, klas):
    group = GroupFactory(school=klas.school, name="Groep 7", jaargroep="7")
    for first, last in [("Raphaël", "Dam"), ("Raphaël", "Dekker"), ("Raphaël", "Dijkstra"),
                        ("Sam", "Bakker"), ("Sam", "Bakker"), ("Mohammed", "El Amrani"),
                        ("Zoë", "Jong")]:
        PupilFactory(school=klas.school, group=group, first_name=first, last_name=last)
    response = client.get(klas.names(group), REMOTE_ADDR=SCHOOL_IP)
    names = _tile_texts(response)
    assert len(names) == len(set(names)) == 7, names
    assert names == ["Mohammed E.", "Raphaël Da.", "Raphaël De.", "Raphaël Di.", "Sam Bakker",
                     "Sam Bakker (2)", "Zoë J."]


def test_the_secret_page_greets_the_pupil_by_the_tile_they_chose(client, klas):
    twin = PupilFactory(school=klas.school, group=klas.kleuters, first_name="Sam",
                        last_name="Boer")
    response = client.get(klas.secret(twin), REMOTE_ADDR=SCHOOL_IP)
    assert "Sam Bo." in response.content.decode()


def test_names_and_group_names_never_break_inside_a_word(client, klas):
    klas.kleuters.name = "Groep 1-2A"
    klas.kleuters.save()
    long = PupilFactory(school=klas.school, group=klas.kleuters,
                        first_name="Maximiliaan-Alexander", last_name="Bakker")
    tree = html.fromstring(client.get(klas.page(), REMOTE_ADDR=SCHOOL_IP).content.decode())
    group_tile = tree.xpath("//a[contains(@class, 'kid-tile')][contains(., 'Groep')]")[0]
    # A hyphenated word is kept on one line (white-space: nowrap): no break after "-".
    assert [w.text for w in group_tile.xpath(".//span[@class='kid-word']")] == ["1-2A"]
    assert group_tile.text_content().strip() == "Groep 1-2A"
    tree = html.fromstring(client.get(klas.names(klas.kleuters),
                                      REMOTE_ADDR=SCHOOL_IP).content.decode())
    tile = tree.xpath(f"//a[contains(@href, '/{long.pk}/')]")[0]
    assert "kid-tile--xlong" in tile.get("class")  # a smaller font instead of a break
    css = client.get("/static/klaspoort/klaspoort.css")
    text = b"".join(css.streaming_content if css.streaming else [css.content]).decode()
    assert ".kid-word { white-space: nowrap; }" in text
    assert "overflow-wrap: anywhere" not in text.split(".kid-tile {")[1].split("}")[0]


def test_a_pupil_never_sees_whiteboard_software_a_teacher_does(client, klas):
    products = {
        "Pluspunt": Product.Type.PRACTICE, "Pluspunt toetsen": Product.Type.TESTS,
        "Kleuterplein digibord": Product.Type.WHITEBOARD,
        "Lijn 3 leerkrachtomgeving": Product.Type.TEACHER, "Naslag": Product.Type.REFERENCE}
    for name, kind in products.items():
        GroupLicence.objects.create(contract=licensed(klas.school, name, product_type=kind),
                                    group=klas.groep6)
    client.force_login(klas.noor.user)
    assert sorted(tiles(client.get(reverse("signin:portal")))) == [
        "Naslag", "Pluspunt", "Pluspunt toetsen"]
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.groep6)
    client.force_login(teacher.user)
    assert sorted(tiles(client.get(reverse("signin:portal")))) == sorted(products)
