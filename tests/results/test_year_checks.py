"""The results' items of the *Schooljaar-checklist*: result couplings delivering, and results
to download before the summer erasure. Each state, and never another school's rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from klaspoort.results.models import Delivery, ResultCoupling
from klaspoort.results.year_checks import couplings_check, erasure_check
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED
from tests.factories import (
    DeliveryFactory,
    PupilFactory,
    ResultCouplingFactory,
    ResultFactory,
    SchoolFactory,
)

DAY = datetime.date(2026, 12, 1)


# --- result couplings delivering -------------------------------------------------------------
def test_a_school_without_a_result_coupling_is_off(school):
    check = couplings_check(school, DAY)
    assert check.state == OFF
    assert check.facts == ["De school heeft geen resultatenkoppeling."]
    assert check.fix_url.endswith(f"/{school.brin6}/resultatenkoppelingen/")


def test_a_coupling_that_delivers_is_green(school):
    delivery = DeliveryFactory(result=ResultFactory(pupil=PupilFactory(school=school)))
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.SENT,
                                                   sent_at=timezone.now())
    check = couplings_check(school, DAY)
    assert check.state == GREEN
    assert "resultaten verstuurd: 1, wachtend: 0, mislukt: 0." in check.facts[0]


def test_a_refused_coupling_is_red_with_the_reason(school):
    ResultCouplingFactory(school=school, state=ResultCoupling.State.REFUSED,
                          last_error={"message": "The LAS refused the key.", "params": {}})
    check = couplings_check(school, DAY)
    assert check.state == RED
    assert len(check.facts) == 2


def test_failed_deliveries_are_red(school):
    delivery = DeliveryFactory(result=ResultFactory(pupil=PupilFactory(school=school)))
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.FAILED)
    check = couplings_check(school, DAY)
    assert check.state == RED
    assert "resultaten verstuurd: 0, wachtend: 0, mislukt: 1." in check.facts[0]


def test_another_schools_failing_coupling_never_counts(school):
    ResultCouplingFactory(school=SchoolFactory(), state=ResultCoupling.State.FAILING)
    assert couplings_check(school, DAY).state == OFF
    ResultCouplingFactory(school=school)
    assert couplings_check(school, DAY).state == GREEN


# --- results before the summer erasure -------------------------------------------------------
def test_no_results_to_erase_is_off(school):
    assert erasure_check(school, DAY).state == OFF


def test_results_long_before_the_erasure_are_green_with_the_date(school):
    ResultFactory.create_batch(2, pupil=PupilFactory(school=school))
    check = erasure_check(school, DAY)
    assert check.state == GREEN
    assert check.facts[0].startswith("2 resultaten van dit schooljaar worden op 21 juli 2027 "
                                     "gewist")


def test_results_in_the_four_weeks_before_the_erasure_are_amber(school):
    ResultFactory(pupil=PupilFactory(school=school))
    assert erasure_check(school, datetime.date(2027, 6, 22)).state == GREEN
    assert erasure_check(school, datetime.date(2027, 6, 23)).state == AMBER
    assert erasure_check(school, datetime.date(2027, 7, 21)).state == AMBER


def test_another_schools_results_never_count(school):
    ResultFactory(pupil=PupilFactory(school=SchoolFactory()))
    assert erasure_check(school, datetime.date(2027, 7, 1)).state == OFF
