"""The one rule of what a publisher sees (licences.publisher_view) is the rule single sign-on
signs people in by: a person is in a publisher's view exactly when they may sign in there, and
the ID token names them and their groups as the roster feed does."""

import datetime

import pytest
from django.utils import timezone

from klaspoort.licences.models import ChildLicence, Contract, GroupLicence
from klaspoort.licences.publisher_view import view_of
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Group, Pupil, Teacher
from klaspoort.roster.services import apply_roster
from klaspoort.schools.models import PublisherConsent
from klaspoort.sso.claims import claims_for
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.selectors import decide
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_school(school, school_file):
    """Alfa: year 5 by group, year 7 ended, a cluster and two children on a per-child licence.
    Beta: year 6 by group but no consent. Gamma: year 4 from next month."""
    today = timezone.localdate()
    alfa, beta, gamma = (PublisherFactory(name=f"Uitgeverij {n}") for n in
                         ("Alfa", "Beta", "Gamma"))
    ContractFactory(school=school, product=ProductFactory(publisher=alfa, year_groups=[5]))
    ContractFactory(school=school, product=ProductFactory(publisher=alfa, year_groups=[7]),
                    start=today - datetime.timedelta(days=300),
                    end=today - datetime.timedelta(days=1))
    ContractFactory(school=school, product=ProductFactory(publisher=beta, year_groups=[6]))
    ContractFactory(school=school, product=ProductFactory(publisher=gamma, year_groups=[4]),
                    start=today + datetime.timedelta(days=30))
    apply_roster(school, parse_edexml(school_file(80)))
    cluster = Group.objects.filter(school=school, kind="cluster").first()
    per_group = ContractFactory(school=school, product=ProductFactory(publisher=alfa,
                                                                      year_groups=[]))
    if cluster is not None:
        GroupLicence.objects.create(contract=per_group, group=cluster)
    per_child = ContractFactory(school=school, product=ProductFactory(
        publisher=alfa, year_groups=[]), contract_type=Contract.Type.CHILD, seats=5)
    for pupil in Pupil.objects.filter(school=school, jaargroep="3")[:2]:
        ChildLicence.objects.create(contract=per_child, pupil=pupil)
    for publisher in (alfa, gamma):
        PublisherConsent.objects.create(school=school, publisher=publisher,
                                        given_at=timezone.now())
    return school, (alfa, beta, gamma)


def test_in_the_view_exactly_when_single_sign_on_would_sign_in(mixed_school):
    school, publishers = mixed_school
    users = [p.user for p in Pupil.objects.filter(school=school).select_related("user")] + [
        t.user for t in Teacher.objects.filter(school=school).select_related("user")]
    seen_any = False
    for publisher in publishers:
        view = view_of(publisher.pk, school)
        client = PublisherClient(publisher=publisher)
        in_view = set()
        for user in users:
            decision = decide(client, user)
            allowed = decision.refusal is None
            key = f"u:{user.pk}"
            assert allowed == (key in view.people), (publisher.name, user.pk)
            if allowed:
                in_view.add(key)
                claims = claims_for(decision, user.pk)
                record = view.people[key]
                assert claims["sub"] == record.id
                assert claims["school_id"] == record.school_id
                assert sorted(g["id"] for g in claims["groups"]) == sorted(record.group_ids)
                assert claims["family_name"] == record.family_name
        seen_any = seen_any or bool(in_view)
        # Groups in the view are exactly those the people in it are named in (or linked).
        named = {gid for person in view.people.values() for gid in person.group_ids}
        assert named <= {g.id for g in view.groups.values()}
    assert seen_any
    _alfa, beta, gamma = publishers
    assert view_of(beta.pk, school).school_record is None  # no consent: not even the school
    gamma_view = view_of(gamma.pk, school)
    assert gamma_view.school_record is not None and not gamma_view.people  # not yet started
