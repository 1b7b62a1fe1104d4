"""The pupil throttling's rules through begin, failed and succeeded, on whichever cache the run
uses (local memory, or Redis in CI's PostgreSQL leg, where begin and a success are one Lua
script each), and what an attempt costs in round trips on Redis (issue 17)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from klaspoort.signin import throttling
from klaspoort.signin.throttling import Budget, Slot, Wait
from tests.round_trips import round_trips_to_redis

NOOR, SAM = 31_001, 31_002
SCHOOL = 7
SCHOOL_IP, HOME_IP = "145.10.20.30", "80.100.1.1"
ON_REDIS = settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")


class Clock:
    """The throttling's time, moved on by the test (the gates hold times, not lifetimes)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(throttling, "time", moved)
    return moved


def fail(pupil_id: int | None, address: str = SCHOOL_IP) -> Wait | None:
    return throttling.record_failure(pupil_id=pupil_id, address=address, school_id=SCHOOL)


def attempt(pupil_id: int | None, address: str = SCHOOL_IP) -> Slot | Wait:
    return throttling.begin(pupil_id=pupil_id, address=address, school_id=SCHOOL)


def test_after_a_wait_the_next_block_of_failures_waits_twice_as_long(clock):
    waits = [fail(NOOR) for _ in range(throttling.PUPIL_STEP)]
    assert waits[:-1] == [None] * (throttling.PUPIL_STEP - 1)
    assert waits[-1] == Wait(throttling.PUPIL, 60)
    assert attempt(NOOR) == Wait(throttling.PUPIL, 60)  # refused, and not counted
    clock.offset += 61
    waits = [fail(NOOR) for _ in range(throttling.PUPIL_STEP)]
    assert waits[:-1] == [None] * (throttling.PUPIL_STEP - 1)
    assert waits[-1] == Wait(throttling.PUPIL, 120)
    assert attempt(NOOR) == Wait(throttling.PUPIL, 120)
    assert throttling.pupil_failures(NOOR) == 2 * throttling.PUPIL_STEP


def test_a_right_secret_after_a_wait_starts_the_waits_over(clock):
    for _ in range(throttling.PUPIL_STEP):
        fail(NOOR)
    clock.offset += 61
    slot = attempt(NOOR)
    assert isinstance(slot, Slot)
    slot.succeeded()
    assert throttling.pupil_failures(NOOR) == 0
    assert throttling.current_wait(pupil_id=NOOR, address=SCHOOL_IP, school_id=SCHOOL) is None
    waits = [fail(NOOR) for _ in range(throttling.PUPIL_STEP)]
    assert waits[-1] == Wait(throttling.PUPIL, 60)  # the first wait again, not the third


def test_a_right_secret_gives_back_the_address_and_the_school_but_keeps_other_failures():
    fail(SAM)
    slot = attempt(NOOR)
    assert isinstance(slot, Slot)
    slot.succeeded()
    budget = throttling.BUDGETS[throttling.INSIDE]
    # One failure (Sam's) is left at the address and the school: a success takes none.
    for _ in range(budget.address_limit - 1):
        fail(None)
    assert attempt(None) == Wait(throttling.ADDRESS, budget.address_window)
    assert throttling.pupil_failures(SAM) == 1


def test_an_attempt_the_address_refuses_is_no_failure_of_the_pupil(clock, monkeypatch):
    monkeypatch.setitem(throttling.BUDGETS, throttling.INSIDE, Budget(7, 600, 300, 3600))
    for _ in range(7):
        fail(None)  # another device behind the school's address used its budget
    for _ in range(throttling.PUPIL_STEP):
        fail(NOOR, address="145.10.20.31")
    clock.offset += 61  # Noor's wait is over, the address's window is not
    refused = attempt(NOOR)
    assert isinstance(refused, Wait) and refused.scope == throttling.ADDRESS
    # The time left is that of the address's window, which started 61 seconds ago.
    assert 530 < refused.seconds <= 540
    assert throttling.pupil_failures(NOOR) == throttling.PUPIL_STEP
    assert attempt(NOOR) == refused


def test_the_school_ceiling_refuses_and_gives_back_the_address(monkeypatch):
    monkeypatch.setitem(throttling.BUDGETS, throttling.INSIDE, Budget(100, 600, 3, 3600))
    for n in range(3):
        fail(None, address=f"145.10.20.{40 + n}")
    refused = attempt(NOOR)
    assert isinstance(refused, Wait) and refused.scope == throttling.SCHOOL
    assert throttling.pupil_failures(NOOR) == 0
    # The refused attempt left nothing at the address either: its 100 are all still there.
    monkeypatch.setitem(throttling.BUDGETS, throttling.INSIDE, Budget(100, 600, 300, 3600))
    for _ in range(100):
        assert isinstance(attempt(None), Slot)
    assert attempt(None) == Wait(throttling.ADDRESS, 600)


@pytest.mark.skipif(not ON_REDIS, reason="no Redis cache configured (KLASPOORT_CACHE_URL)")
def test_on_redis_a_pupil_signing_in_costs_three_round_trips(monkeypatch):
    with round_trips_to_redis(monkeypatch) as trips:
        throttling.current_wait(pupil_id=NOOR, address=SCHOOL_IP, school_id=SCHOOL)
        slot = attempt(NOOR)
        assert isinstance(slot, Slot)
        slot.succeeded()
    assert trips.count <= 3  # it was 18
    with round_trips_to_redis(monkeypatch) as trips:
        throttling.current_wait(pupil_id=NOOR, address=SCHOOL_IP, school_id=SCHOOL)
        slot = attempt(NOOR)
        assert isinstance(slot, Slot)
        assert slot.failed() is None
    assert trips.count <= 4  # it was 13
