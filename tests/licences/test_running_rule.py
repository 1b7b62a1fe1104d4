""""This contract runs on this day" is one rule (issue 12): `Contract.runs_on` for one contract,
`Contract.objects.running_on` / `running_q` for a query (also through a link's contract), and
the two always agree, cancellation (*Opzeggen*) included."""

import datetime

import pytest
from django.utils import timezone

from klaspoort.licences import selectors, services
from klaspoort.licences.models import Contract, GroupLicence, running_q, runs_from_q
from tests.factories import GroupFactory, PupilFactory
from tests.licences.factories import ContractFactory, ProductFactory

D = datetime.date
START, END = D(2026, 9, 1), D(2027, 7, 31)
# Opzeggen before 30 June 2027 of a contract that would run until 2029: it ends 31 July 2027.
CANCELLED = {"start": D(2026, 8, 1), "end": D(2029, 7, 31), "cancelled_until": D(2027, 7, 31)}
# A contract for the next school year, cancelled before it started: it never runs.
NEVER = {"start": D(2027, 8, 1), "end": D(2028, 7, 31), "cancelled_until": D(2027, 7, 31)}


def make(school, **dates):
    dates.setdefault("start", START)
    dates.setdefault("end", END)
    if dates.get("cancelled_until"):
        dates["cancelled_at"] = timezone.now()
    return ContractFactory(school=school, **dates)


@pytest.mark.parametrize(("dates", "day", "runs", "runs_later"), [
    ({}, START - datetime.timedelta(days=1), False, True),  # future: the day before it starts
    ({}, START, True, True),                                # first day
    ({}, END, True, True),                                  # last day (inclusive)
    ({}, END + datetime.timedelta(days=1), False, False),   # the day after
    (CANCELLED, D(2027, 7, 31), True, True),                # last day after cancellation
    (CANCELLED, D(2027, 8, 1), False, False),               # its end date no longer counts
    (CANCELLED, D(2029, 7, 31), False, False),
    # Cancelled later than its end: the end date still decides.
    ({"cancelled_until": END + datetime.timedelta(days=30)}, END, True, True),
    ({"cancelled_until": END + datetime.timedelta(days=30)}, END + datetime.timedelta(days=1),
     False, False),
    (NEVER, D(2027, 7, 1), False, False),
    (NEVER, D(2027, 8, 1), False, False),
])
def test_the_instance_and_the_query_agree(school, dates, day, runs, runs_later):
    contract = make(school, **dates)
    group = GroupFactory(school=school)
    link = GroupLicence.objects.create(contract=contract, group=group)

    assert contract.runs_on(day) is runs
    assert list(Contract.objects.running_on(day)) == ([contract] if runs else [])
    # Through a link's contract: the same rule, with the lookup path as prefix.
    assert list(GroupLicence.objects.filter(running_q(day, prefix="contract__"))) == (
        [link] if runs else [])

    assert contract.runs_from(day) is runs_later
    assert list(Contract.objects.running_from(day)) == ([contract] if runs_later else [])
    assert list(GroupLicence.objects.filter(runs_from_q(day, prefix="contract__"))) == (
        [link] if runs_later else [])

    ended = day > contract.effective_end
    assert list(Contract.objects.ended_by(day)) == ([contract] if ended else [])


def test_running_on_chains_with_other_filters(school):
    running = make(school)
    make(school, start=D(2020, 8, 1), end=D(2021, 7, 31))
    assert list(Contract.objects.filter(school=school).running_on(D(2027, 1, 4))) == [running]
    assert list(Contract.objects.running_on(D(2027, 1, 4)).filter(school=school)) == [running]


def test_contract_status_follows_the_rule(school):
    assert selectors.contract_status(make(school), START - datetime.timedelta(days=1)) == (
        selectors.FUTURE)
    assert selectors.contract_status(make(school, **NEVER), D(2027, 7, 1)) == (
        selectors.CANCELLED)
    assert selectors.contract_status(make(school, **NEVER), D(2027, 8, 1)) == (
        selectors.ENDED_STATUS)


# Fixed with the one rule (issue 12): a newer version the school cancelled before it started
# never runs, so it no longer tells the school to end the older version it keeps using.
def test_a_newer_version_cancelled_before_it_started_does_not_end_the_older(school):
    today = D(2027, 5, 1)
    old = make(school, start=D(2026, 8, 1), end=D(2029, 7, 31))
    newer = ProductFactory(publisher=old.product.publisher, replaces=old.product)
    make(school, product=newer, **NEVER)
    rows = {row.contract.product: row.to_end
            for row in selectors.contracts_for_school(school, today=today)}
    assert rows[old.product] is False

    make(school, product=newer, start=D(2027, 8, 1), end=D(2028, 7, 31))  # a real successor
    rows = {row.contract.product: row.to_end
            for row in selectors.contracts_for_school(school, today=today)}
    assert rows[old.product] is True


# Fixed with the one rule (issue 12): automatic linking leaves a contract that will never run
# alone, as it leaves an ended one.
def test_auto_link_skips_a_contract_cancelled_before_it_started(school):
    make(school, product=ProductFactory(year_groups=[5]), **NEVER)
    GroupFactory(school=school, jaargroep="5")
    assert services.auto_link(school, today=D(2027, 5, 1))["added"] == 0


def test_auto_link_still_links_a_future_contract(school):
    make(school, product=ProductFactory(year_groups=[5]), start=D(2027, 8, 1),
         end=D(2028, 7, 31))
    GroupFactory(school=school, jaargroep="5")
    assert services.auto_link(school, today=D(2027, 5, 1))["added"] == 1


@pytest.mark.parametrize(("day", "notices"), [
    (D(2027, 7, 31), 1),  # the last day of a cancelled contract still counts
    (D(2027, 8, 1), 0),   # the day after, its group licence no longer does
])
def test_a_joiner_notice_follows_cancellation(school, day, notices):
    contract = make(school, **CANCELLED)
    group = GroupFactory(school=school)
    GroupLicence.objects.create(contract=contract, group=group)
    joiner = PupilFactory(school=school, group=group)
    assert services.notice_joiners(school, [joiner.pk], today=day) == notices
