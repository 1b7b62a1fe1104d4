"""*Lesmateriaal* for every staff member (issue 11, item 1): in the header for teachers,
coordinators and operators; a coordinator's "Bekijk als groep …" shows exactly the tiles a
pupil of the chosen group sees, read-only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from klaspoort.licences.models import ChildLicence, GroupLicence, Product, PublisherMembership
from tests.factories import (
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.signin.test_portal import licensed, tiles

pytestmark = pytest.mark.django_db


def _header_links(response: Any) -> dict[str, str]:
    assert response.status_code == 200
    tree = html.fromstring(response.content.decode())
    return {a.text_content().strip(): a.get("href")
            for a in tree.xpath("//header[@class='site-header']//div[@class='account']//a")}


def test_a_teacher_opens_lesmateriaal_from_the_header(client, klas):
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.groep6)
    GroupLicence.objects.create(contract=licensed(klas.school, "Pluspunt"), group=klas.groep6)
    client.force_login(teacher.user)
    links = _header_links(client.get(reverse("teacher:home")))
    assert links["Lesmateriaal"] == reverse("signin:portal")
    assert "Mijn groepen" in links
    portal = client.get(links["Lesmateriaal"])
    assert tiles(portal) == ["Pluspunt"]
    current = html.fromstring(portal.content.decode()).xpath("//a[@aria-current='page']")
    assert [a.text_content() for a in current] == ["Lesmateriaal"]


def test_a_coordinator_and_an_operator_have_lesmateriaal_in_the_header(client, school):
    for user in (CoordinatorFactory(school=school), UserFactory(is_staff=True)):
        client.force_login(user)
        assert _header_links(client.get(reverse("profile")))["Lesmateriaal"] == reverse(
            "signin:portal")


def test_a_publishers_staff_member_has_no_lesmateriaal(client):
    user = UserFactory()
    PublisherMembership.objects.create(user=user, publisher=licensed(
        SchoolFactory(), "Pluspunt").publisher)
    client.force_login(user)
    assert "Lesmateriaal" not in _header_links(client.get(reverse("profile")))


def test_bekijk_als_groep_shows_exactly_what_a_pupil_of_the_group_sees(client, klas):
    kinds = {"Pluspunt": Product.Type.PRACTICE, "Pluspunt toetsen": Product.Type.TESTS,
             "Kleuterplein digibord": Product.Type.WHITEBOARD}
    for name, kind in kinds.items():
        GroupLicence.objects.create(contract=licensed(klas.school, name, product_type=kind),
                                    group=klas.groep6)
    GroupLicence.objects.create(contract=licensed(klas.school, "Voor groep 1-2"),
                                group=klas.kleuters)
    licensed(klas.school, "Niet gekoppeld")
    ended = licensed(klas.school, "Afgelopen", end=timezone.localdate() - datetime.timedelta(1))
    GroupLicence.objects.create(contract=ended, group=klas.groep6)
    # A classmate's own per-child licence is theirs, not the group's.
    classmate = PupilFactory(school=klas.school, group=klas.groep6)
    per_child = licensed(klas.school, "Verrijking")
    per_child.contract_type, per_child.seats = "child", 2
    per_child.save()
    ChildLicence.objects.create(contract=per_child, pupil=classmate)

    client.force_login(klas.noor.user)
    seen_by_pupil = tiles(client.get(reverse("signin:portal")))
    assert sorted(seen_by_pupil) == ["Pluspunt", "Pluspunt toetsen"]

    coordinator = CoordinatorFactory(school=klas.school)
    client.force_login(coordinator)
    portal = client.get(reverse("signin:portal"))
    tree = html.fromstring(portal.content.decode())
    view_as = tree.xpath("//a[contains(@class, 'portal-view-as')]")
    assert [a.text_content() for a in view_as] == ["Bekijk als groep …"]
    url = view_as[0].get("href")
    page = client.get(url, {"groep": klas.groep6.pk})
    assert page.status_code == 200
    tree = html.fromstring(page.content.decode())
    shown = [n.text_content() for n in tree.xpath("//span[@class='portal-tile__name']")]
    assert shown == seen_by_pupil
    # Read-only: nothing opens from here.
    assert not tree.xpath("//a[contains(@class, 'portal-tile')]")
    kleuters = client.get(url, {"groep": klas.kleuters.pk})
    assert [n.text_content() for n in html.fromstring(kleuters.content.decode()).xpath(
        "//span[@class='portal-tile__name']")] == ["Voor groep 1-2"]


def test_bekijk_als_groep_only_for_the_coordinators_own_school(client, klas):
    other = SchoolFactory()
    foreign = GroupFactory(school=other, name="Groep 8")
    coordinator = CoordinatorFactory(school=klas.school)
    client.force_login(coordinator)
    url = reverse("signin:group_view", args=[klas.school.brin6])
    assert client.get(url, {"groep": foreign.pk}).status_code == 404
    assert client.get(url, {"groep": "x" * 40}).status_code == 404
    assert client.get(reverse("signin:group_view", args=[other.brin6])).status_code == 404
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    client.force_login(teacher.user)
    assert client.get(url).status_code == 404
