"""Throttling of pupils' sign-in: stop guessing without locking out a class (decisions 0013, 0016).

Failures are counted in Django's cache at three levels, each twice: once for attempts from the
school's registered addresses (INSIDE) and once for home sign-in (OUTSIDE). The two never share
a counter, so no amount of traffic from outside can make a pupil, an address or the school wait
at school (decision 0016).

- per pupil: after every PUPIL_STEP failures the pupil waits, 1 minute the first time and twice
  as long each next time, at most PUPIL_MAX_WAIT; a correct secret or the teacher's unlock
  clears it. A guess is always against one pupil, so this is what bounds guessing a secret.
- per client address: a school's devices share one public address, so the inside limit is far
  above what a class that mistypes produces, and only stops one device trying many pupils.
- per school: a ceiling over all addresses against a scripted attack from many addresses.

Every attempt first *reserves* its place in all three counters with one atomic increment each
(`begin`), and only then is the secret compared: 32 parallel guesses cannot all pass a check
made before any of them was counted. A right secret gives its reservations at the address and
the school back, so the counters hold failures (and attempts still being checked), never the
morning's successful sign-ins. Cache keys are hashed so addresses never appear in them.
Nothing here touches the database.

With Redis, `begin` reserves at all three levels in one Lua script and a success gives back and
forgets in another: one round trip each at the Monday-morning peak instead of a dozen. Only a
pupil past PUPIL_STEP failures, whose wait gate is read first, costs a few more. Local memory
takes the same steps one cache operation at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from klaspoort import counters
from klaspoort.redis_cache import RedisCache, redis_cache_of

logger = logging.getLogger(__name__)

PUPIL_STEP = 5  # failures before each wait
PUPIL_FIRST_WAIT = 60  # seconds; doubled with every next wait
PUPIL_MAX_WAIT = 60 * 60
PUPIL_MEMORY = 24 * 60 * 60  # a pupil's failures are remembered this long after the last one

INSIDE = "in"  # from one of the school's registered addresses
OUTSIDE = "out"  # home sign-in (thuisinlog): anywhere else


@dataclass(frozen=True)
class Budget:
    """How many failures one address and one school may have within a fixed window."""

    address_limit: int
    address_window: int  # seconds
    school_limit: int
    school_window: int  # seconds


# At school: a class that mistypes must never reach these (decision 0013).
ADDRESS_LIMIT = 100
ADDRESS_WINDOW = 10 * 60
SCHOOL_LIMIT = 300
SCHOOL_WINDOW = 60 * 60
# At home: only devices enrolled at school get this far (decision 0016); a family's device
# needs a handful of tries, a whole school's evening a few dozen.
HOME_ADDRESS_LIMIT = 10
HOME_ADDRESS_WINDOW = 60 * 60
HOME_SCHOOL_LIMIT = 50
HOME_SCHOOL_WINDOW = 60 * 60

BUDGETS = {
    INSIDE: Budget(ADDRESS_LIMIT, ADDRESS_WINDOW, SCHOOL_LIMIT, SCHOOL_WINDOW),
    OUTSIDE: Budget(HOME_ADDRESS_LIMIT, HOME_ADDRESS_WINDOW, HOME_SCHOOL_LIMIT,
                    HOME_SCHOOL_WINDOW),
}

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


def _pupil_key(pupil_id: int, place: str) -> str:
    return f"kp:signin:pupil:{place}:{pupil_id}"


def _address_key(address: str, place: str) -> str:
    return f"kp:signin:addr:{place}:{_hash(address)}"


def _school_key(school_id: int, place: str) -> str:
    return f"kp:signin:school:{place}:{school_id}"


def _gate_key(pupil_key: str, slot: int) -> str:
    """When the wait that follows failure number `slot` (a multiple of PUPIL_STEP) ends."""
    return f"{_gates_of(pupil_key)}{slot}"


def _gates_of(pupil_key: str) -> str:
    return f"{pupil_key}:until:"


# ---------------------------------------------------------------------------------------------
# The atomic counter
# ---------------------------------------------------------------------------------------------
def increment(key: str, timeout: int) -> int:
    """Add one to a counter and return the new value, atomically: cache.add creates it only if
    it is missing and cache.incr is atomic (Redis INCR; a lock in the local-memory cache), so
    every parallel caller gets its own number."""
    for _ in range(3):
        if cache.add(key, 0, timeout):
            cache.set(f"{key}:start", time.time(), timeout)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr: start again
            continue
    cache.set(key, 1, timeout)
    return 1


def _decrement(key: str) -> None:
    redis = redis_cache_of(cache)
    if redis is not None:  # one round trip, and no gap between "is it there" and DECR
        redis.run(counters.REFUND, [key], [])
        return
    with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to give back
        cache.decr(key)


def _window_left(key: str, window: int) -> int:
    return _left(cache.get(f"{key}:start"), window)


def _left(started: float | None, window: int) -> int:
    if started is None:
        return window
    return max(1, math.ceil(window - (time.time() - float(started))))


def pupil_wait_seconds(failures: int) -> int:
    """The wait after `failures` failures: none below PUPIL_STEP, then 1, 2, 4, ... minutes at
    each further PUPIL_STEP failures, at most PUPIL_MAX_WAIT."""
    if failures < PUPIL_STEP:
        return 0
    return min(PUPIL_MAX_WAIT, PUPIL_FIRST_WAIT * int(2 ** (failures // PUPIL_STEP - 1)))


# ---------------------------------------------------------------------------------------------
# Reserving an attempt
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """An attempt that may be checked: its places in the counters are taken."""

    pupil_id: int | None
    address: str
    school_id: int
    place: str

    def succeeded(self) -> None:
        """A right secret or card: the pupil's failures (at this place) are forgotten and the
        address's and the school's reservations are given back."""
        redis = redis_cache_of(cache)
        if redis is not None and _gates_named_by_suffix(redis):
            _succeeded_on_redis(redis, self)
            return
        if self.pupil_id is not None:
            forget_pupil(self.pupil_id, place=self.place)
        _decrement(_address_key(self.address, self.place))
        _decrement(_school_key(self.school_id, self.place))

    def failed(self) -> Wait | None:
        """A wrong answer: the reservations stay as failures. The wait that applies now."""
        if self.pupil_id is not None:
            key = _pupil_key(self.pupil_id, self.place)
            cache.touch(key, PUPIL_MEMORY)  # remembered for a day after the *last* failure
        return current_wait(pupil_id=self.pupil_id, address=self.address,
                            school_id=self.school_id, place=self.place)


def _reserve_pupil(pupil_id: int, place: str) -> tuple[int, Wait | None]:
    """Take the pupil's next attempt number; refuse (and give it back) while the pupil waits.

    Attempt n of a block (n > PUPIL_STEP) may be checked only once the wait after the previous
    block's last failure has ended. That wait is written by the attempt that took the block's
    last number, *before* its secret is compared; an attempt that finds no wait written yet is
    one that overtook it, and is refused like one that came too early."""
    key = _pupil_key(pupil_id, place)
    number = increment(key, PUPIL_MEMORY)
    wait = _gate_wait(key, number)
    if wait is not None:
        _decrement(key)
        return number, wait
    _open_gate(key, number)
    return number, None


def _gate_wait(key: str, number: int) -> Wait | None:
    """The wait that still holds attempt `number` back: none within the first block."""
    if number <= PUPIL_STEP:
        return None
    now = time.time()
    until = cache.get(_gate_key(key, (number - 1) // PUPIL_STEP * PUPIL_STEP))
    if until is not None and float(until) <= now:
        return None
    left = math.ceil(float(until) - now) if until is not None else PUPIL_FIRST_WAIT
    return Wait(PUPIL, max(1, left))


def _open_gate(key: str, number: int) -> None:
    """The attempt that took a block's last number writes the wait after it (see above)."""
    if number % PUPIL_STEP == 0:
        now, wait = time.time(), pupil_wait_seconds(number)
        cache.set(_gate_key(key, number), now + wait, PUPIL_MEMORY + PUPIL_MAX_WAIT)
        cache.set(f"{key}:until", now + wait, wait)


def _reserve_window(key: str, limit: int, window: int, scope: str) -> Wait | None:
    number = increment(key, window)
    if number > limit:
        _decrement(key)
        return Wait(scope, _window_left(key, window))
    if number == limit and scope == SCHOOL:
        logger.warning("pupil sign-in: a school reached its failure ceiling (%s)", key)
    return None


def begin(*, pupil_id: int | None, address: str, school_id: int,
          place: str = INSIDE) -> Slot | Wait:
    """Reserve one attempt at the pupil (if any), the address and the school, atomically, or
    say who must wait. RULE: nothing is compared without a Slot (decision 0013: while a level
    waits, the right secret waits too, so the wait is no oracle)."""
    redis = redis_cache_of(cache)
    if redis is not None:
        return _begin_on_redis(redis, pupil_id=pupil_id, address=address, school_id=school_id,
                               place=place)
    budget = BUDGETS[place]
    number = 0
    if pupil_id is not None:
        number, wait = _reserve_pupil(pupil_id, place)
        if wait:
            return wait
    address_key = _address_key(address, place)
    wait = _reserve_window(address_key, budget.address_limit, budget.address_window, ADDRESS)
    if wait is None:
        wait = _reserve_window(_school_key(school_id, place), budget.school_limit,
                               budget.school_window, SCHOOL)
        if wait is not None:
            _decrement(address_key)
    if wait is not None:
        if pupil_id is not None:
            _give_back_pupil(pupil_id, place, number)
        return wait
    return Slot(pupil_id, address, school_id, place)


# KEYS: address, its start, school, its start, then the pupil (if any). ARGV: the start as stored,
# the address's limit and window, the school's, then for a pupil whether to reserve (1) or the
# reservation was taken already (2), PUPIL_MEMORY and PUPIL_STEP. Returns the pupil's number and
# an outcome: 0 past a block (only the pupil reserved: the gate is read next), 1 or 2 refused
# by the address or the school (everything given back; the start of its window follows), 3 the
# school reached its ceiling, 4 reserved.
_BEGIN = counters.LUA + """
local pupil = KEYS[5]
local number = 0
if pupil and ARGV[6] == '1' then
  number = hit(pupil, KEYS[6], ARGV[7], ARGV[1])
  if number > tonumber(ARGV[8]) then return {number, 0} end
end
local function refused(outcome, start_key)
  if pupil then refund(pupil) end
  return {number, outcome, redis.call('GET', start_key)}
end
if hit(KEYS[1], KEYS[2], ARGV[3], ARGV[1]) > tonumber(ARGV[2]) then
  refund(KEYS[1])
  return refused(1, KEYS[2])
end
local at_school = hit(KEYS[3], KEYS[4], ARGV[5], ARGV[1])
if at_school > tonumber(ARGV[4]) then
  refund(KEYS[3])
  refund(KEYS[1])
  return refused(2, KEYS[4])
end
if at_school == tonumber(ARGV[4]) then return {number, 3} end
return {number, 4}
"""


def _begin_on_redis(redis: RedisCache, *, pupil_id: int | None, address: str, school_id: int,
                    place: str) -> Slot | Wait:
    """`begin` in one round trip: the same reservations, in the same order, with the same give
    backs, run whole by Redis. A pupil past a block reserves first, is held by the wait gate as
    in `_reserve_pupil`, and only then reserves at the address and the school."""
    budget = BUDGETS[place]
    address_key, school_key = _address_key(address, place), _school_key(school_id, place)
    keys = [address_key, f"{address_key}:start", school_key, f"{school_key}:start"]
    args: list[object] = [redis.encode(time.time()), budget.address_limit,
                          budget.address_window, budget.school_limit, budget.school_window]
    pupil_key = _pupil_key(pupil_id, place) if pupil_id is not None else ""
    if pupil_id is not None:
        keys += [pupil_key, f"{pupil_key}:start"]
        args += [1, PUPIL_MEMORY, PUPIL_STEP]
    number, outcome, *started = redis.run(_BEGIN, keys, args)
    if outcome == 0:
        wait = _gate_wait(pupil_key, number)
        if wait is not None:
            _decrement(pupil_key)
            return wait
        args[5] = 2
        _, outcome, *started = redis.run(_BEGIN, keys, args)
    if outcome in (1, 2):
        scope, window = ((ADDRESS, budget.address_window) if outcome == 1
                         else (SCHOOL, budget.school_window))
        start = started[0] if started and started[0] is not None else None
        return Wait(scope, _left(None if start is None else redis.decode(start), window))
    if outcome == 3:
        logger.warning("pupil sign-in: a school reached its failure ceiling (%s)", school_key)
    if pupil_id is not None:
        _open_gate(pupil_key, number)
    return Slot(pupil_id, address, school_id, place)


# KEYS: the address, the school, then the pupil and its wait (if any). ARGV: the final name of
# the pupil's wait gates without their number, PUPIL_STEP. `_clear`'s deletes, with the count
# they depend on read in the same step.
_SUCCEEDED = counters.LUA + """
refund(KEYS[1])
refund(KEYS[2])
if KEYS[3] then
  local step = tonumber(ARGV[2])
  local blocks = math.floor((tonumber(redis.call('GET', KEYS[3])) or 0) / step) + 1
  local doomed = {KEYS[3], KEYS[4]}
  for n = 1, blocks do doomed[#doomed + 1] = ARGV[1] .. (n * step) end
  redis.call('DEL', unpack(doomed))
end
"""


def _gates_named_by_suffix(redis: RedisCache) -> bool:
    """Whether the cache's final key of a gate is that of `_gates_of` with the slot appended
    (Django's default KEY_FUNCTION), so that a script can name the gates of a count it reads."""
    key = _pupil_key(0, INSIDE)
    return (redis.make_key(_gate_key(key, PUPIL_STEP))
            == redis.make_key(_gates_of(key)) + str(PUPIL_STEP))


def _succeeded_on_redis(redis: RedisCache, slot: Slot) -> None:
    """`Slot.succeeded` in one round trip."""
    keys = [_address_key(slot.address, slot.place), _school_key(slot.school_id, slot.place)]
    gates = ""
    if slot.pupil_id is not None:
        pupil_key = _pupil_key(slot.pupil_id, slot.place)
        keys += [pupil_key, f"{pupil_key}:until"]
        gates = redis.make_key(_gates_of(pupil_key))
    redis.run(_SUCCEEDED, keys, [gates, PUPIL_STEP])


def _give_back_pupil(pupil_id: int, place: str, number: int) -> None:
    """An attempt refused by the address or the school was never checked: it is no failure."""
    key = _pupil_key(pupil_id, place)
    if number % PUPIL_STEP == 0:
        cache.delete_many([_gate_key(key, number), f"{key}:until"])
    _decrement(key)


# ---------------------------------------------------------------------------------------------
# Reading and clearing
# ---------------------------------------------------------------------------------------------
def current_wait(*, pupil_id: int | None, address: str, school_id: int,
                 place: str = INSIDE) -> Wait | None:
    """Whether a sign-in attempt must wait now (to show it before the child tries); the pupil's
    own wait is told first, since that is the one the child (and the teacher who can lift it)
    can do something about. One round trip to the cache: this runs on every sign-in of the
    Monday peak. Informative only: `begin` decides."""
    budget = BUDGETS[place]
    pupil_until = f"{_pupil_key(pupil_id, place)}:until" if pupil_id is not None else None
    address_key, school_key = _address_key(address, place), _school_key(school_id, place)
    found = cache.get_many([k for k in (pupil_until, address_key, school_key) if k])
    until = found.get(pupil_until) if pupil_until else None
    if until is not None and float(until) > time.time():
        return Wait(PUPIL, math.ceil(float(until) - time.time()))
    if int(found.get(address_key, 0)) >= budget.address_limit:
        return Wait(ADDRESS, _window_left(address_key, budget.address_window))
    if int(found.get(school_key, 0)) >= budget.school_limit:
        return Wait(SCHOOL, _window_left(school_key, budget.school_window))
    return None


def record_failure(*, pupil_id: int | None, address: str, school_id: int,
                   place: str = INSIDE) -> Wait | None:
    """Count one failure that was not reserved first (tests, and the teacher's view of a
    pupil's failures); the wait it starts, if any."""
    slot = begin(pupil_id=pupil_id, address=address, school_id=school_id, place=place)
    return slot if isinstance(slot, Wait) else slot.failed()


def _clear(pupil_id: int, place: str) -> bool:
    key = _pupil_key(pupil_id, place)
    found = cache.get_many([key, f"{key}:until"])
    until = found.get(f"{key}:until")
    waiting = until is not None and float(until) > time.time()
    blocks = int(found.get(key, 0)) // PUPIL_STEP + 1
    cache.delete_many([key, f"{key}:until",
                       *(_gate_key(key, n * PUPIL_STEP) for n in range(1, blocks + 1))])
    return waiting


def clear_pupil(pupil_id: int) -> bool:
    """Forget a pupil's failures and waits, at school and at home (the teacher's unlock). True
    when the pupil was waiting."""
    inside = _clear(pupil_id, INSIDE)
    outside = _clear(pupil_id, OUTSIDE)
    return inside or outside


def forget_pupil(pupil_id: int, *, place: str = INSIDE) -> None:
    """After a right secret: the pupil's failures at this place are forgotten (a right secret at
    home does not wipe the count of guesses made at school, nor the other way round)."""
    _clear(pupil_id, place)


def pupil_failures(pupil_id: int, *, place: str = INSIDE) -> int:
    return int(cache.get(_pupil_key(pupil_id, place), 0))
