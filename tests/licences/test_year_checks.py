"""The licences' items of the *Schooljaar-checklist*: publishers ticked, groups linked to the
licences of their year group, per-child seats, contracts ending and the 30 June cancellation
date. Each state, and never another school's rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.licences.year_checks import (
    child_seats_check,
    consent_check,
    contracts_ending_check,
    group_links_check,
)
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED
from klaspoort.schools.models import PublisherConsent
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
)

DAY = datetime.date(2026, 12, 1)
YEAR = {"start": datetime.date(2026, 8, 1), "end": datetime.date(2027, 7, 31)}
LONG = {"start": datetime.date(2026, 8, 1), "end": datetime.date(2029, 7, 31)}


def tick(school, publisher):
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())


# --- publishers ticked ----------------------------------------------------------------------
def test_no_contracts_means_the_consent_item_is_off(school):
    assert consent_check(school, DAY).state == OFF


def test_a_publisher_with_licences_that_is_not_ticked_is_red(school):
    ContractFactory(school=school, product__publisher=PublisherFactory(name="Malmberg"), **YEAR)
    check = consent_check(school, DAY)
    assert check.state == RED
    assert check.facts == ["Niet aangevinkt, terwijl de school licenties van hen heeft: "
                           "Malmberg."]
    assert check.fix_url.endswith(f"/{school.brin6}/uitgeverijen/")


def test_a_future_contract_counts_too(school):
    ContractFactory(school=school, start=datetime.date(2027, 8, 1),
                    end=datetime.date(2028, 7, 31))
    assert consent_check(school, DAY).state == RED


def test_every_publisher_with_licences_ticked_is_green(school):
    contract = ContractFactory(school=school, **YEAR)
    tick(school, contract.publisher)
    assert consent_check(school, DAY).state == GREEN


def test_another_schools_consent_or_contract_never_counts(school):
    contract = ContractFactory(school=school, **YEAR)
    tick(SchoolFactory(), contract.publisher)
    assert consent_check(school, DAY).state == RED
    ContractFactory(school=SchoolFactory(), **YEAR)
    tick(school, contract.publisher)
    assert consent_check(school, DAY).state == GREEN


def test_an_ended_contract_does_not_ask_for_a_tick(school):
    ContractFactory(school=school, start=datetime.date(2025, 8, 1),
                    end=datetime.date(2026, 7, 31))
    assert consent_check(school, DAY).state == OFF


# --- groups linked to the licences of their year group ---------------------------------------
def group_with_pupils(school, jaargroep="5", name="Groep 5"):
    group = GroupFactory(school=school, jaargroep=jaargroep, name=name)
    PupilFactory(school=school, group=group, jaargroep=jaargroep)
    return group


def test_no_contracts_for_year_groups_means_off(school):
    group_with_pupils(school)
    assert group_links_check(school, DAY).state == OFF


def test_a_group_with_pupils_without_its_licence_is_red(school):
    group_with_pupils(school, name="Groep 5a")
    ContractFactory(school=school, product=ProductFactory(year_groups=[5]), **YEAR)
    check = group_links_check(school, DAY)
    assert check.state == RED
    assert "Groepen zonder één licentie van hun jaargroep: Groep 5a." in check.facts


def test_a_group_linked_to_one_of_its_two_licences_is_amber(school):
    group = group_with_pupils(school, name="Groep 5a")
    linked = ContractFactory(school=school, product=ProductFactory(year_groups=[5]), **YEAR)
    ContractFactory(school=school, product=ProductFactory(year_groups=[4, 5]), **YEAR)
    GroupLicence.objects.create(contract=linked, group=group, automatic=True)
    check = group_links_check(school, DAY)
    assert check.state == AMBER
    assert ("Groepen die een deel van de licenties van hun jaargroep missen: Groep 5a."
            in check.facts)


def test_every_group_linked_is_green_and_a_link_removed_by_hand_is_a_choice(school):
    group = group_with_pupils(school)
    other = group_with_pupils(school, name="Groep 5b")
    contract = ContractFactory(school=school, product=ProductFactory(year_groups=[5]), **YEAR)
    GroupLicence.objects.create(contract=contract, group=group)
    GroupLicence.objects.create(contract=contract, group=other, removed_at=timezone.now())
    assert group_links_check(school, DAY).state == GREEN


def test_a_combination_group_counts_by_its_pupils_year_groups(school):
    combination = GroupFactory(school=school, jaargroep="", name="Groep 4/5")
    PupilFactory(school=school, group=combination, jaargroep="4")
    ContractFactory(school=school, product=ProductFactory(year_groups=[4]), **YEAR)
    check = group_links_check(school, DAY)
    assert check.state == RED
    assert "Groep 4/5" in check.facts[-1]


def test_a_group_without_pupils_and_another_schools_groups_do_not_count(school):
    GroupFactory(school=school, jaargroep="5")
    group_with_pupils(SchoolFactory())
    ContractFactory(school=school, product=ProductFactory(year_groups=[5]), **YEAR)
    assert group_links_check(school, DAY).state == GREEN


# --- per-child seats ------------------------------------------------------------------------
def per_child(school, seats, title="Rekentuin"):
    return ContractFactory(school=school, contract_type=Contract.Type.CHILD, seats=seats,
                           title=title, **YEAR)


def test_no_per_child_contracts_means_off(school):
    assert child_seats_check(school, DAY).state == OFF


def test_free_seats_are_green(school):
    contract = per_child(school, 3)
    ChildLicenceFactory(contract=contract)
    check = child_seats_check(school, DAY)
    assert check.state == GREEN
    assert check.facts == ["Rekentuin: 1 van 3 plaatsen gebruikt, 2 vrij."]


def test_no_free_seat_is_amber(school):
    contract = per_child(school, 2)
    ChildLicenceFactory.create_batch(2, contract=contract)
    assert child_seats_check(school, DAY).state == AMBER


def test_more_children_than_seats_is_red(school):
    contract = per_child(school, 1)
    ChildLicenceFactory.create_batch(2, contract=contract)
    assert child_seats_check(school, DAY).state == RED


def test_removed_links_and_another_schools_contracts_do_not_count(school):
    contract = per_child(school, 1)
    ChildLicenceFactory(contract=contract, removed_at=timezone.now())
    ChildLicenceFactory.create_batch(3, contract=per_child(SchoolFactory(), 1))
    assert child_seats_check(school, DAY).state == GREEN


# --- contracts ending and the 30 June cancellation date --------------------------------------
JUNE = datetime.date(2027, 6, 10)


def test_no_contracts_means_the_ending_item_is_off(school):
    assert contracts_ending_check(school, JUNE).state == OFF


def test_in_june_a_contract_ending_this_year_is_amber(school):
    ContractFactory(school=school, title="Pluspunt 4", **YEAR)
    check = contracts_ending_check(school, JUNE)
    assert check.state == AMBER
    assert check.facts == ["1 contract loopt dit schooljaar af: Pluspunt 4."]


def test_in_june_a_contract_that_can_still_be_cancelled_is_amber(school):
    ContractFactory(school=school, **LONG)
    check = contracts_ending_check(school, JUNE)
    assert check.state == AMBER
    assert check.facts == ["1 contract loopt volgend schooljaar door, tenzij je het uiterlijk "
                           "30 juni 2027 opzegt."]


def test_before_june_the_same_contracts_are_green_with_the_date(school):
    ContractFactory(school=school, **LONG)
    check = contracts_ending_check(school, DAY)
    assert check.state == GREEN
    assert "30 juni 2027" in check.facts[0]


def test_after_30_june_it_is_green_and_says_the_date_has_passed(school):
    ContractFactory(school=school, **LONG)
    check = contracts_ending_check(school, datetime.date(2027, 7, 1))
    assert check.state == GREEN
    assert check.facts == ["De opzegdatum (30 juni 2027) is voorbij."]


def test_in_june_a_contract_already_cancelled_leaves_nothing_to_decide(school):
    ContractFactory(school=school, cancelled_at=timezone.now(),
                    cancelled_until=datetime.date(2027, 7, 31), **LONG)
    assert contracts_ending_check(school, JUNE).state == GREEN


def test_another_schools_contracts_never_count(school):
    ContractFactory(school=SchoolFactory(), **LONG)
    assert contracts_ending_check(school, JUNE).state == OFF
