"""Throttling of pupils' sign-in: stop guessing without locking out a class (decision 0013).

Failures are counted in Django's cache at three levels:

- per pupil: after every PUPIL_STEP failures the pupil waits, 1 minute the first time and twice
  as long each next time, at most PUPIL_MAX_WAIT; a correct secret or the teacher's unlock
  clears it. A guess is always against one pupil, so this is what bounds guessing a secret.
- per client address: a school's devices share one public address, so the limit is far above
  what a class that mistypes produces, and only stops one device trying many pupils.
- per school: a ceiling over all addresses against a scripted attack from many addresses
  (home sign-in), high enough that a whole school at 8:30 never reaches it.

Cache keys are hashed so addresses never appear in them. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

PUPIL_STEP = 5  # failures before each wait
PUPIL_FIRST_WAIT = 60  # seconds; doubled with every next wait
PUPIL_MAX_WAIT = 60 * 60
PUPIL_MEMORY = 24 * 60 * 60  # a pupil's failures are remembered this long after the last one
ADDRESS_LIMIT = 100  # failures from one address ...
ADDRESS_WINDOW = 10 * 60  # ... within this window
SCHOOL_LIMIT = 300  # failures at one school, all addresses together ...
SCHOOL_WINDOW = 60 * 60  # ... within this window

PUPIL = "pupil"
ADDRESS = "address"
SCHOOL = "school"


@dataclass(frozen=True)
class Wait:
    """Sign-in is refused for now: who waits (PUPIL, ADDRESS or SCHOOL) and how long."""

    scope: str
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _pupil_key(pupil_id: int) -> str:
    return f"kp:signin:pupil:{pupil_id}"


def _address_key(address: str) -> str:
    return f"kp:signin:addr:{_hash(address)}"


def _school_key(school_id: int) -> str:
    return f"kp:signin:school:{school_id}"


def _window_left(key: str, window: int) -> int:
    started = cache.get(f"{key}:start")
    if started is None:
        return window
    return max(1, math.ceil(window - (time.time() - float(started))))


def _count(key: str, window: int) -> int:
    """Add one failure to a fixed window that starts at the first failure."""
    if cache.add(key, 0, window):
        cache.set(f"{key}:start", time.time(), window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: a fresh window
        cache.set(key, 1, window)
        cache.set(f"{key}:start", time.time(), window)
        return 1


def pupil_wait_seconds(failures: int) -> int:
    """The wait after `failures` failures: none below PUPIL_STEP, then 1, 2, 4, ... minutes at
    each further PUPIL_STEP failures, at most PUPIL_MAX_WAIT."""
    if failures < PUPIL_STEP:
        return 0
    return min(PUPIL_MAX_WAIT, PUPIL_FIRST_WAIT * 2 ** (failures // PUPIL_STEP - 1))


def address_wait(address: str) -> Wait | None:
    key = _address_key(address)
    if int(cache.get(key, 0)) >= ADDRESS_LIMIT:
        return Wait(ADDRESS, _window_left(key, ADDRESS_WINDOW))
    return None


def current_wait(*, pupil_id: int | None, address: str, school_id: int) -> Wait | None:
    """Whether a sign-in attempt must wait now; the pupil's own wait is told first, since that is
    the one the child (and the teacher who can lift it) can do something about. One round trip
    to the cache for the three counters: this runs on every sign-in of the Monday peak."""
    pupil_until = f"{_pupil_key(pupil_id)}:until" if pupil_id is not None else None
    address_key, school_key = _address_key(address), _school_key(school_id)
    found = cache.get_many([k for k in (pupil_until, address_key, school_key) if k])
    until = found.get(pupil_until) if pupil_until else None
    if until is not None and float(until) > time.time():
        return Wait(PUPIL, math.ceil(float(until) - time.time()))
    if int(found.get(address_key, 0)) >= ADDRESS_LIMIT:
        return Wait(ADDRESS, _window_left(address_key, ADDRESS_WINDOW))
    if int(found.get(school_key, 0)) >= SCHOOL_LIMIT:
        return Wait(SCHOOL, _window_left(school_key, SCHOOL_WINDOW))
    return None


def record_failure(*, pupil_id: int | None, address: str, school_id: int) -> Wait | None:
    """Count one wrong secret (or, without a pupil, one unusable card) and return the wait it
    starts, if any."""
    _count(_address_key(address), ADDRESS_WINDOW)
    if _count(_school_key(school_id), SCHOOL_WINDOW) == SCHOOL_LIMIT:
        logger.warning("pupil sign-in: school %s reached its failure ceiling", school_id)
    if pupil_id is None:
        return address_wait(address)
    key = _pupil_key(pupil_id)
    cache.add(key, 0, PUPIL_MEMORY)
    try:
        failures = int(cache.incr(key))  # atomic: parallel guesses each count
    except ValueError:
        failures = 1
        cache.set(key, failures, PUPIL_MEMORY)
    cache.touch(key, PUPIL_MEMORY)  # remembered for a day after the *last* failure
    wait = pupil_wait_seconds(failures) if failures % PUPIL_STEP == 0 else 0
    if wait:
        cache.set(f"{key}:until", time.time() + wait, wait)
        return Wait(PUPIL, wait)
    return current_wait(pupil_id=None, address=address, school_id=school_id)


def clear_pupil(pupil_id: int) -> bool:
    """Forget a pupil's failures and wait (correct secret, or the teacher's unlock). True when
    the pupil was waiting."""
    key = _pupil_key(pupil_id)
    until = cache.get(f"{key}:until")
    waiting = until is not None and float(until) > time.time()
    cache.delete_many([key, f"{key}:until"])
    return waiting


def forget_pupil(pupil_id: int) -> None:
    """After a right secret: the pupil's failures are forgotten (one round trip, no question
    asked, unlike clear_pupil, which also tells the teacher whether the pupil was waiting)."""
    key = _pupil_key(pupil_id)
    cache.delete_many([key, f"{key}:until"])


def pupil_failures(pupil_id: int) -> int:
    return int(cache.get(_pupil_key(pupil_id), 0))
