"""Atomic counters in the shared cache, for throttling (staff sign-in, pupil sign-in, uploads).

RULE: a limit is enforced by *reserving first, deciding after*. `hit` adds one and returns the
new count in one atomic cache operation (`add` + `incr` under a lock in local memory; in Redis
one Lua script, `LUA`, that increments, starts the window and records its start in one round
trip), so N simultaneous attempts see N different counts and exactly `limit` of them
see a count <= limit. Checking first and counting after the attempt (check-then-act) let 32
parallel guesses through about 8 checks where 5 were allowed. An attempt that turns out not to
count (a refused or a successful one, depending on the rule) gives its reservation back with
`refund`.

Use:

    n = counters.hit(key, WINDOW)
    if n > LIMIT:
        counters.refund(key)     # refused: not an attempt
        return refuse(counters.seconds_left(key, WINDOW))
    ...                          # the attempt; on success, if successes do not count:
    counters.refund(key)

Windows are fixed: they start at the first hit and are not extended by later ones. Keys are
hashed (`key`), so e-mail addresses never appear in the cache. With several server processes the
cache must be shared (Redis); a per-process cache multiplies every limit by the number of
processes. A project-level module: it imports no app.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from typing import Any

from django.core.cache import cache as default_cache

from klaspoort.redis_cache import redis_cache_of

# Tests swap this for another backend (e.g. a Redis cache) to check atomicity there too.
cache: Any = default_cache

# The counter operations as Lua functions, for scripts that Redis runs whole (no other command
# comes between two of their steps); klaspoort.signin.throttling builds its own on these.
# `hit`: a counter without a lifetime is one that INCR has just created, so only the first hit
# of a window sets its end and its start; later hits, and hits after a refund back to 0, leave
# the window where it is. `refund`: a counter whose window has ended is not brought back (a DECR
# of a missing key would create one at -1 that never expires).
LUA = """
local function hit(key, start_key, window, start)
  local n = redis.call('INCR', key)
  if redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, window)
    redis.call('SET', start_key, start, 'EX', window)
  end
  return n
end
local function refund(key)
  if redis.call('EXISTS', key) == 1 then
    redis.call('DECR', key)
  end
end
"""
# KEYS: the counter and its start; ARGV: the window and the start as the cache stores it.
HIT = LUA + "return hit(KEYS[1], KEYS[2], ARGV[1], ARGV[2])"
# KEYS: the counters to give one back to (one round trip for all of an attempt's).
REFUND = LUA + "for _, key in ipairs(KEYS) do refund(key) end"


def key(kind: str, *parts: object) -> str:
    """A short cache key for a counter of `kind` over these parts (hashed: no e-mail in it)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"counter:{kind}:{digest}"


def network_of(address: str) -> str:
    """The network a client's address counts under: the /64 of an IPv6 address (one household
    or office gets a whole /64, so per-address limits would be 2**64 times too generous), the
    address itself for IPv4. Text that is no address counts as itself."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return str(address)[:100]
    if ip.version == 6:
        mapped = ip.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def hit(name: str, window: int) -> int:
    """Add one to the counter `name` and return the new count, atomically. The first hit starts
    a window of `window` seconds; the counter disappears when it ends."""
    redis = redis_cache_of(cache)
    if redis is not None:
        return int(redis.run(HIT, [name, f"{name}:start"], [int(window),
                                                             redis.encode(time.time())]))
    if cache.add(name, 0, window):
        cache.add(f"{name}:start", time.time(), window)
    for _ in range(3):
        try:
            count = int(cache.incr(name))
        except ValueError:  # the window ended between add and incr: start a new one
            if cache.add(name, 0, window):
                cache.add(f"{name}:start", time.time(), window)
            continue
        if count == 1:
            # Redis's INCR on a key that just expired creates it without a lifetime: give it one.
            cache.touch(name, window)
        return count
    return int(cache.get(name, 0) or 0)


def refund(*names: str) -> None:
    """Give back one reservation in each counter; a counter whose window has ended stays ended."""
    redis = redis_cache_of(cache)
    if redis is not None:
        if names:
            redis.run(REFUND, list(names), [])
        return
    for name in names:
        with contextlib.suppress(ValueError):
            cache.decr(name)


def count(name: str) -> int:
    """The counter's current value (0 when there is none)."""
    return int(cache.get(name, 0) or 0)


def clear(*names: str) -> None:
    """Remove counters and their window start."""
    cache.delete_many([*names, *(f"{n}:start" for n in names)])


def seconds_left(name: str, window: int) -> int:
    """Seconds until the counter's window ends (the whole window when unknown)."""
    started = cache.get(f"{name}:start")
    if started is None:
        return window
    return max(1, math.ceil(window - (time.time() - float(started))))


def minutes_left(name: str, window: int) -> int:
    """Whole minutes until the counter's window ends (at least 1)."""
    return max(1, math.ceil(seconds_left(name, window) / 60))
