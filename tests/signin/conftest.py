"""A school with a registered address, a group 1-2 with pictures and a group 6 with pincodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from klaspoort.roster import secrets
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import School, SchoolNetwork
from tests.factories import GroupFactory, PupilFactory

SCHOOL_IP = "145.10.20.30"
OTHER_IP = "145.99.1.1"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@dataclass
class Class:
    school: School
    kleuters: Group
    groep6: Group
    sam: Pupil  # pictures
    noor: Pupil  # pincode
    pictures: tuple[int, int]
    code: str

    def page(self, **extra: Any) -> str:
        return reverse("signin:pupil_page", args=[self.school.pupil_page_ref])

    def names(self, group: Group) -> str:
        return reverse("signin:pupil_names", args=[self.school.pupil_page_ref, group.pk])

    def secret(self, pupil: Pupil) -> str:
        return reverse("signin:pupil_secret",
                       args=[self.school.pupil_page_ref, pupil.group_id, pupil.pk])


def give(pupil: Pupil, plain: str) -> None:
    pupil.signin_secret = secrets.encrypt(plain)
    pupil.save(update_fields=["signin_secret"])


@pytest.fixture
def klas(school) -> Class:
    SchoolNetwork.objects.create(school=school, network="145.10.20.0/24")
    kleuters = GroupFactory(school=school, name="Groep 1-2", jaargroep="1",
                            signin_method="plaatjes")
    groep6 = GroupFactory(school=school, name="Groep 6", jaargroep="6", signin_method="pincode")
    sam = PupilFactory(school=school, group=kleuters, first_name="Sam", last_name="Bakker",
                       jaargroep="1")
    noor = PupilFactory(school=school, group=groep6, first_name="Noor", prefix="de",
                        last_name="Vries", jaargroep="6")
    give(sam, "plaatjes:3-11")  # boom, vis
    give(noor, "pincode:04217")
    return Class(school, kleuters, groep6, sam, noor, (3, 11), "04217")
