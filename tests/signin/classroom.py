"""The classroom the pupil browser tests sign in to: a school that sees the test browser as
being at school, a kleuter group on pictures with Sam, a group 6 on pincodes with Noor, and one
licensed method the kleuters may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from klaspoort.licences.models import GroupLicence
from klaspoort.roster import secrets
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from tests.factories import GroupFactory, PupilFactory
from tests.licences.factories import ContractFactory

SAM_PICTURES = "plaatjes:3-11"
NOOR_PINCODE = "04217"


@dataclass
class Classroom:
    kleuters: Any
    sam: Any
    groep6: Any
    noor: Any
    contract: Any


def classroom(school: Any, *, classmates: tuple[str, ...] = ("Ayla", "Bram")) -> Classroom:
    # The live server sees the browser at 127.0.0.1: register it as the school's address here
    # (the Beheer form refuses loopback addresses, as it should).
    SchoolNetwork.objects.create(school=school, network="127.0.0.1/32")
    kleuters = GroupFactory(school=school, name="Groep 1-2", jaargroep="1",
                            signin_method="plaatjes")
    for name in classmates:
        PupilFactory(school=school, group=kleuters, first_name=name, jaargroep="1")
    sam = PupilFactory(school=school, group=kleuters, first_name="Sam", last_name="Bakker",
                       jaargroep="1", signin_secret=secrets.encrypt(SAM_PICTURES))
    groep6 = GroupFactory(school=school, name="Groep 6", jaargroep="6", signin_method="pincode")
    noor = PupilFactory(school=school, group=groep6, first_name="Noor", last_name="Vries",
                        jaargroep="6", signin_secret=secrets.encrypt(f"pincode:{NOOR_PINCODE}"))
    contract = ContractFactory(school=school, product__name="Kleuterplein")
    PublisherConsent.objects.create(school=school, publisher=contract.publisher,
                                    given_at=timezone.now())
    GroupLicence.objects.create(contract=contract, group=kleuters)
    return Classroom(kleuters, sam, groep6, noor, contract)
