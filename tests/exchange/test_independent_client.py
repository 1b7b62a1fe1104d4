"""An independent client (examples/publisher_app/roster.py: HTTP and JSON only, nothing of
Klaspoort's code) builds a publisher's view from snapshots plus the feed; after imports,
licence changes, a second school and a consent withdrawal, its view equals the API's snapshot
exactly. Over real HTTP against a running server, with real commits."""

from __future__ import annotations

import copy

import pytest
import requests

from examples.publisher_app.roster import RosterReplica
from klaspoort.exchange.models import PublisherApiToken
from klaspoort.licences import services as licence_services
from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.pseudonyms import school_id_for
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Group, Pupil
from klaspoort.roster.services import apply_roster
from klaspoort.schools.services import set_publisher_consents
from tests.factories import CoordinatorFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_snapshot_plus_feed_equals_the_snapshot_after_every_kind_of_change(live_server,
                                                                          school_file):
    api = f"{live_server.url}/api/publisher/v1"
    publisher = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    product = ProductFactory(publisher=publisher, code="ZB", year_groups=[5])
    _row, token = PublisherApiToken.issue(publisher, "independent client")
    first = SchoolFactory(brin="99ZZ", dependancecode="00", name="De Regenboog")
    coordinator = CoordinatorFactory(school=first)
    contract = ContractFactory(school=first, product=product)
    roster = parse_edexml(school_file(40))
    apply_roster(first, roster)
    set_publisher_consents(first, [publisher.pk], coordinator)

    def snapshot(school):
        response = requests.get(f"{api}/schools/{school_id_for(publisher.pk, school.pk)}",
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if response.status_code == 404:
            return {"school": None, "groups": [], "people": []}
        body = response.json()
        return {"school": body["school"], "groups": sorted(body["groups"],
                                                           key=lambda g: g["id"]),
                "people": sorted(body["people"], key=lambda p: p["id"])}

    replica = RosterReplica(api, token)  # starts with snapshots, then follows the feed

    def agrees(*schools):
        replica.sync()
        for school in schools:
            expected = snapshot(school)
            assert replica.view_of(school_id_for(publisher.pk, school.pk)) == expected
        return True

    assert agrees(first)
    assert replica.people, "the pupils of year group 5 and their teachers"
    # A roster import: a rename, a leaver and a pupil moving into group 5.
    changed = copy.deepcopy(roster)
    fives = {g["key"] for g in changed["groups"] if g["jaargroep"] == "5"}
    in_five = [p for p in changed["pupils"] if p["group"] in fives]
    in_five[0]["first_name"] = "Fenna"
    changed["pupils"].remove(in_five[1])
    next(p for p in changed["pupils"] if p["group"] not in fives)["group"] = next(iter(fives))
    apply_roster(first, changed)
    assert agrees(first)
    # Licences: a group linked by hand, year 5 unlinked, a child on a per-child licence.
    six = Group.objects.filter(school=first, jaargroep="6", kind="group").first()
    licence_services.link_group(school=first, contract=contract, group=six, actor=coordinator)
    five = GroupLicence.objects.filter(contract=contract, group__jaargroep="5").first().group
    licence_services.unlink_group(school=first, contract=contract, group=five,
                                  actor=coordinator)
    per_child = ContractFactory(school=first, product=ProductFactory(
        publisher=publisher, code="ZBX", year_groups=[]), contract_type=Contract.Type.CHILD,
        seats=2)
    licence_services.link_child(school=first, contract=per_child,
                                pupil=Pupil.objects.filter(school=first, jaargroep="3").first(),
                                actor=coordinator)
    assert agrees(first)
    # A second school consents: it arrives through the feed.
    second = SchoolFactory(brin="98ZZ", dependancecode="00", name="De Klimop")
    other_coordinator = CoordinatorFactory(school=second)
    ContractFactory(school=second, product=product)
    apply_roster(second, parse_edexml(school_file(30, brin="98ZZ", seed=3)))
    set_publisher_consents(second, [publisher.pk], other_coordinator)
    assert agrees(first, second)
    # The first school withdraws: the client is told to delete all of it.
    set_publisher_consents(first, [], coordinator)
    assert agrees(first, second)
    assert replica.view_of(school_id_for(publisher.pk, first.pk)) == {
        "school": None, "groups": [], "people": []}
    # A fresh client (snapshots, then the feed) agrees too; so does one replaying from 0.
    fresh = RosterReplica(api, token)
    fresh.sync()
    assert fresh.view_of(school_id_for(publisher.pk, second.pk)) == snapshot(second)
    replay = RosterReplica(api, token, cursor="0")
    replay.sync()
    for school in (first, second):
        assert replay.view_of(school_id_for(publisher.pk, school.pk)) == snapshot(school)
