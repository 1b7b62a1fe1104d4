"""The licence rules of issue 4: linking, seats, automatic linking, contract life and the one
access rule everything else asks."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from klaspoort.audit.models import AuditEntry
from klaspoort.licences import selectors, services
from klaspoort.licences.access import access_for_school, access_for_user
from klaspoort.licences.errors import NotFound
from klaspoort.licences.models import ChildLicence, Contract, GroupLicence, JoinNotice
from klaspoort.roster.models import PupilCluster, TeacherGroup
from klaspoort.schools.models import PublisherConsent
from tests.factories import GroupFactory, PupilFactory, SchoolFactory, TeacherFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherMemberFactory

TODAY = datetime.date(2026, 11, 23)


def consent(school, publisher):
    return PublisherConsent.objects.create(school=school, publisher=publisher,
                                           given_at=datetime.datetime.now(datetime.UTC))


def contract_for(school, *, years=(5,), consented=True, **kwargs):
    product = ProductFactory(year_groups=list(years))
    kwargs.setdefault("start", TODAY - datetime.timedelta(days=30))
    kwargs.setdefault("end", TODAY + datetime.timedelta(days=200))
    contract = ContractFactory(school=school, product=product, **kwargs)
    if consented:
        consent(school, product.publisher)
    return contract


def products(access):
    return {p.product.code: p.via for p in access.products}


def reasons(access):
    return {d.product.code: d.reason for d in access.denied}


# --------------------------------------------------------------------------------------------
# Linking groups
# --------------------------------------------------------------------------------------------
def test_several_groups_on_one_contract(school, coordinator):
    contract = contract_for(school, years=())
    a, b = GroupFactory(school=school), GroupFactory(school=school)
    services.link_group(school=school, contract=contract, group=a, actor=coordinator)
    services.link_group(school=school, contract=contract, group=b, actor=coordinator)
    assert {g.group for g in selectors.group_links(contract)} == {a, b}
    row, = selectors.contracts_for_school(school, today=TODAY)
    assert row.groups == 2
    assert AuditEntry.objects.filter(school=school, action="licences.group.link").count() == 2


def test_linking_another_schools_group_or_contract_is_refused(school, coordinator):
    other = SchoolFactory()
    contract = contract_for(school)
    foreign_contract = contract_for(other)
    foreign_group = GroupFactory(school=other)
    with pytest.raises(NotFound):
        services.link_group(school=school, contract=contract, group=foreign_group,
                            actor=coordinator)
    with pytest.raises(NotFound):
        services.link_group(school=school, contract=foreign_contract,
                            group=GroupFactory(school=school), actor=coordinator)
    assert not GroupLicence.objects.exists()


def test_a_per_child_contract_takes_no_groups(school, coordinator):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=3)
    with pytest.raises(ValidationError):
        services.link_group(school=school, contract=contract, group=GroupFactory(school=school),
                            actor=coordinator)


# --------------------------------------------------------------------------------------------
# Automatic linking
# --------------------------------------------------------------------------------------------
def test_auto_link_by_year_group_and_combination_group(school):
    contract = contract_for(school, years=(4,))
    group4 = GroupFactory(school=school, jaargroep="4")
    group5 = GroupFactory(school=school, jaargroep="5")
    combination = GroupFactory(school=school, jaargroep="C", name="Groep 4-5")
    PupilFactory(school=school, group=combination, jaargroep="4")
    PupilFactory(school=school, group=combination, jaargroep="5")
    assert services.auto_link(school, today=TODAY) == {"added": 2, "removed": 0}
    linked = {link.group: link.automatic for link in selectors.group_links(contract)}
    assert linked == {group4: True, combination: True}
    assert group5 not in linked
    # Running it again changes nothing.
    assert services.auto_link(school, today=TODAY) == {"added": 0, "removed": 0}


def test_auto_link_never_brings_back_a_link_removed_by_hand(school, coordinator):
    contract = contract_for(school, years=(5,))
    group = GroupFactory(school=school, jaargroep="5")
    services.auto_link(school, today=TODAY)
    services.unlink_group(school=school, contract=contract, group=group, actor=coordinator)
    services.auto_link(school, today=TODAY)
    assert selectors.group_links(contract) == []
    assert [link.group for link in selectors.removed_group_links(contract)] == [group]


def test_auto_link_keeps_a_link_made_by_hand_that_does_not_match(school, coordinator):
    contract = contract_for(school, years=(5,))
    group3 = GroupFactory(school=school, jaargroep="3")
    services.link_group(school=school, contract=contract, group=group3, actor=coordinator)
    services.auto_link(school, today=TODAY)
    assert [link.group for link in selectors.group_links(contract)] == [group3]


def test_auto_link_drops_its_own_link_when_the_group_no_longer_matches(school):
    contract = contract_for(school, years=(5,))
    group = GroupFactory(school=school, jaargroep="5")
    services.auto_link(school, today=TODAY)
    group.jaargroep = "6"
    group.save()
    assert services.auto_link(school, today=TODAY) == {"added": 0, "removed": 1}
    assert selectors.group_links(contract) == []


def test_auto_link_skips_ended_contracts(school):
    contract_for(school, years=(5,), start=TODAY - datetime.timedelta(days=400),
                 end=TODAY - datetime.timedelta(days=1))
    GroupFactory(school=school, jaargroep="5")
    assert services.auto_link(school, today=TODAY)["added"] == 0


# --------------------------------------------------------------------------------------------
# Child licences and seats
# --------------------------------------------------------------------------------------------
def test_seats_run_out_with_a_clear_message(school, coordinator):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=2)
    pupils = [PupilFactory(school=school) for _ in range(3)]
    services.link_child(school=school, contract=contract, pupil=pupils[0], actor=coordinator)
    services.link_child(school=school, contract=contract, pupil=pupils[1], actor=coordinator)
    with pytest.raises(ValidationError, match="2"):
        services.link_child(school=school, contract=contract, pupil=pupils[2], actor=coordinator)
    row, = selectors.contracts_for_school(school, today=TODAY)
    assert (row.seats_used, row.seats_free) == (2, 0)


def test_the_coordinator_has_no_way_to_unlink_a_child(school):
    assert not hasattr(services, "unlink_child")


def test_the_helpdesk_unlinks_a_child_audited_and_only_its_own(school, coordinator):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=1)
    pupil = PupilFactory(school=school)
    link = services.link_child(school=school, contract=contract, pupil=pupil, actor=coordinator)
    stranger = PublisherMemberFactory()
    with pytest.raises(NotFound):
        services.unlink_child_by_helpdesk(publisher=stranger.publisher, link=link,
                                          actor=stranger.user)
    helpdesk = PublisherMemberFactory(publisher=contract.publisher, role="helpdesk")
    services.unlink_child_by_helpdesk(publisher=contract.publisher, link=link, actor=helpdesk.user)
    assert selectors.seats_used(contract) == 0
    entry = AuditEntry.objects.get(action="licences.child.unlink")
    assert (entry.school, entry.actor) == (school, helpdesk.user)
    # The freed seat can be taken by another child.
    services.link_child(school=school, contract=contract, pupil=PupilFactory(school=school),
                        actor=coordinator)


def test_two_coordinators_cannot_both_take_the_last_seat_twice_for_one_child(
        school, coordinator):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=5)
    pupil = PupilFactory(school=school)
    services.link_child(school=school, contract=contract, pupil=pupil, actor=coordinator)
    services.link_child(school=school, contract=contract, pupil=pupil, actor=coordinator)
    assert ChildLicence.objects.filter(contract=contract).count() == 1


# --------------------------------------------------------------------------------------------
# Contract life
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("day", "expected"), [
    (datetime.date(2026, 9, 1), "products"),     # start day
    (datetime.date(2027, 7, 31), "products"),    # end day
    (datetime.date(2027, 8, 1), "ended"),        # the day after
    (datetime.date(2026, 8, 31), "not_started"),  # the day before
])
def test_contract_dates_at_the_edges(school, day, expected):
    contract = contract_for(school, start=datetime.date(2026, 9, 1),
                            end=datetime.date(2027, 7, 31))
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    GroupLicence.objects.create(contract=contract, group=group)
    access = access_for_user(pupil.user, today=day)
    if expected == "products":
        assert products(access) == {contract.product.code: [contract.number]}
    else:
        assert reasons(access) == {contract.product.code: expected}


def test_cancelling_until_30_june_ends_the_contract_on_31_july(school, coordinator):
    contract = contract_for(school, start=datetime.date(2026, 8, 1),
                            end=datetime.date(2029, 7, 31))
    services.cancel_contract(school=school, contract=contract, actor=coordinator,
                             today=datetime.date(2027, 6, 30))
    contract.refresh_from_db()
    assert contract.effective_end == datetime.date(2027, 7, 31)
    assert not contract.runs_on(datetime.date(2027, 8, 1))
    assert AuditEntry.objects.filter(action="licences.contract.cancel").exists()
    with pytest.raises(ValidationError):
        services.cancel_contract(school=school, contract=contract, actor=coordinator,
                                 today=datetime.date(2027, 6, 30))


def test_cancelling_after_30_june_is_refused_and_changes_nothing(school, coordinator):
    contract = contract_for(school, start=datetime.date(2026, 8, 1),
                            end=datetime.date(2029, 7, 31))
    with pytest.raises(ValidationError, match="30 juni"):
        services.cancel_contract(school=school, contract=contract, actor=coordinator,
                                 today=datetime.date(2027, 7, 1))
    contract.refresh_from_db()
    assert contract.cancelled_at is None


def test_a_contract_ending_this_year_needs_no_cancelling(school, coordinator):
    contract = contract_for(school, start=datetime.date(2026, 8, 1),
                            end=datetime.date(2027, 7, 31))
    with pytest.raises(ValidationError):
        services.cancel_contract(school=school, contract=contract, actor=coordinator,
                                 today=datetime.date(2027, 1, 10))


def test_a_newer_version_shows_the_older_contract_as_to_be_ended(school):
    old = contract_for(school)
    newer = ProductFactory(publisher=old.product.publisher, replaces=old.product)
    ContractFactory(school=school, product=newer)
    rows = {row.contract.product: row.to_end for row in
            selectors.contracts_for_school(school, today=TODAY)}
    assert rows == {old.product: True, newer: False}


# --------------------------------------------------------------------------------------------
# The access rule
# --------------------------------------------------------------------------------------------
def test_pupil_access_through_group_cluster_and_child_licence(school, coordinator):
    group, cluster = GroupFactory(school=school), GroupFactory(school=school, kind="cluster")
    other_group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    PupilCluster.objects.create(pupil=pupil, group=cluster)
    by_group, by_cluster, by_child, nothing = (contract_for(school) for _ in range(4))
    GroupLicence.objects.create(contract=by_group, group=group)
    GroupLicence.objects.create(contract=by_cluster, group=cluster)
    GroupLicence.objects.create(contract=by_child, group=other_group)
    services.link_child(school=school, contract=by_child, pupil=pupil, actor=coordinator)
    access = access_for_user(pupil.user, today=TODAY)
    assert products(access) == {c.product.code: [c.number]
                                for c in (by_group, by_cluster, by_child)}
    assert reasons(access) == {nothing.product.code: "not_linked"}


def test_teacher_access_through_their_groups(school):
    group = GroupFactory(school=school)
    teacher = TeacherFactory(school=school)
    TeacherGroup.objects.create(teacher=teacher, group=group)
    mine, not_mine = contract_for(school), contract_for(school)
    GroupLicence.objects.create(contract=mine, group=group)
    access = access_for_user(teacher.user, today=TODAY)
    assert access.role == "teacher"
    assert products(access) == {mine.product.code: [mine.number]}
    assert reasons(access) == {not_mine.product.code: "not_linked"}


def test_withdrawn_consent_denies_at_once(school, coordinator):
    contract = contract_for(school)
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    GroupLicence.objects.create(contract=contract, group=group)
    assert access_for_user(pupil.user, today=TODAY).products
    PublisherConsent.objects.filter(school=school).update(
        withdrawn_at=datetime.datetime.now(datetime.UTC))
    access = access_for_user(pupil.user, today=TODAY)
    assert products(access) == {}
    assert reasons(access) == {contract.product.code: "no_consent"}


def test_a_child_moved_at_the_new_year_keeps_the_child_licence_not_the_old_groups(
        school, coordinator):
    old_group, new_group = GroupFactory(school=school), GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=old_group)
    group_contract, child_contract = contract_for(school), contract_for(
        school, contract_type=Contract.Type.CHILD, seats=10)
    GroupLicence.objects.create(contract=group_contract, group=old_group)
    services.link_child(school=school, contract=child_contract, pupil=pupil, actor=coordinator)
    pupil.group = new_group
    pupil.save()
    access = access_for_user(pupil.user, today=TODAY)
    assert products(access) == {child_contract.product.code: [child_contract.number]}
    assert reasons(access) == {group_contract.product.code: "not_linked"}


def test_inactive_group_and_removed_link_give_no_access(school, coordinator):
    contract = contract_for(school)
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    services.link_group(school=school, contract=contract, group=group, actor=coordinator)
    services.unlink_group(school=school, contract=contract, group=group, actor=coordinator)
    assert access_for_user(pupil.user, today=TODAY).products == []
    services.link_group(school=school, contract=contract, group=group, actor=coordinator)
    group.active = False
    group.save()
    assert access_for_user(pupil.user, today=TODAY).products == []


def test_whole_school_answer_equals_the_answer_per_user(school, coordinator):
    groups = [GroupFactory(school=school, jaargroep=str(y)) for y in (3, 4, 5)]
    cluster = GroupFactory(school=school, kind="cluster")
    pupils = [PupilFactory(school=school, group=groups[i % 3], jaargroep=str(3 + i % 3))
              for i in range(9)]
    PupilCluster.objects.create(pupil=pupils[0], group=cluster)
    teacher = TeacherFactory(school=school)
    TeacherGroup.objects.create(teacher=teacher, group=groups[1])
    for years in ((3,), (4, 5), (5,)):
        contract_for(school, years=years)
    cluster_contract = contract_for(school, years=())
    GroupLicence.objects.create(contract=cluster_contract, group=cluster)
    child_contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=2)
    services.link_child(school=school, contract=child_contract, pupil=pupils[4], actor=coordinator)
    services.auto_link(school, today=TODAY)
    everyone = access_for_school(school, today=TODAY)
    assert len(everyone) == 10
    for person in [*pupils, teacher]:
        one = access_for_user(person.user, today=TODAY)
        assert everyone[person.user_id].as_json() == one.as_json()


def test_a_joiner_of_a_licensed_group_gets_a_notice_for_its_teachers(school):
    contract = contract_for(school)
    group, unlicensed = GroupFactory(school=school), GroupFactory(school=school)
    GroupLicence.objects.create(contract=contract, group=group)
    joiner = PupilFactory(school=school, group=group)
    elsewhere = PupilFactory(school=school, group=unlicensed)
    assert services.notice_joiners(school, [joiner.pk, elsewhere.pk], today=TODAY) == 1
    assert services.notice_joiners(school, [joiner.pk], today=TODAY) == 0
    notice, = selectors.open_join_notices(school, [group.pk])
    assert notice.pupil == joiner
    services.dismiss_join_notice(school=school, notice=notice, actor=None, group_ids=[group.pk])
    assert selectors.open_join_notices(school) == []
    assert JoinNotice.objects.count() == 1


def test_a_contract_turned_per_child_no_longer_licenses_its_old_groups(school, coordinator):
    contract = contract_for(school)
    group = GroupFactory(school=school)
    pupil, linked_child = PupilFactory(school=school, group=group), PupilFactory(school=school)
    GroupLicence.objects.create(contract=contract, group=group)
    Contract.objects.filter(pk=contract.pk).update(contract_type=Contract.Type.CHILD, seats=5)
    services.link_child(school=school, contract=contract, pupil=linked_child, actor=coordinator)
    assert reasons(access_for_user(pupil.user, today=TODAY)) == {
        contract.product.code: "not_linked"}
    assert products(access_for_user(linked_child.user, today=TODAY)) == {
        contract.product.code: [contract.number]}
    everyone = access_for_school(school, today=TODAY)
    assert everyone[pupil.user_id].products == []
