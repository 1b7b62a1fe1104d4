"""Throttling of staff sign-in (R1.2/R1.3; numbers in docs/decisions/0008).

Failures are counted in Django's cache, per (account, address) and per address. The account
counter is deliberately keyed by the address too: an attacker who hammers an account from
their own address only locks themselves out, never the real owner at school.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache

WINDOW_SECONDS = 15 * 60
ACCOUNT_LIMIT = 5  # failures for one account from one address within the window
ADDRESS_LIMIT = 20  # failures from one address, whatever the accounts, within the window


def _account_key(email: str, address: str) -> str:
    # Hashed: cache keys must stay short and free of odd characters, and need not reveal e-mail.
    digest = hashlib.sha256(f"{email.strip().lower()}|{address}".encode()).hexdigest()
    return f"signin:account:{digest}"


def _address_key(address: str) -> str:
    return f"signin:address:{hashlib.sha256(address.encode()).hexdigest()}"


def _remaining_minutes(key: str) -> int | None:
    """Whole minutes until the window of a full counter ends (at least 1)."""
    started = cache.get(f"{key}:start")
    if started is None:
        return None
    seconds = WINDOW_SECONDS - (time.time() - float(started))
    return max(1, math.ceil(seconds / 60))


def wait_minutes(email: str, address: str) -> int | None:
    """How long sign-in for this account from this address must wait, or None when it may try.
    Refuses after ACCOUNT_LIMIT failures for the account from the address, or ADDRESS_LIMIT
    failures from the address in total, within the window."""
    for key, limit in ((_address_key(address), ADDRESS_LIMIT),
                       (_account_key(email, address), ACCOUNT_LIMIT)):
        if int(cache.get(key, 0)) >= limit:
            return _remaining_minutes(key) or math.ceil(WINDOW_SECONDS / 60)
    return None


def record_failure(email: str, address: str) -> None:
    """Count one failed sign-in for the account from the address, and for the address. The
    window starts at the first failure and is not extended by later ones."""
    for key in (_account_key(email, address), _address_key(address)):
        if cache.add(key, 0, WINDOW_SECONDS):
            cache.set(f"{key}:start", time.time(), WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start a fresh window
            cache.set(key, 1, WINDOW_SECONDS)
            cache.set(f"{key}:start", time.time(), WINDOW_SECONDS)


def record_success(email: str, address: str) -> None:
    """A correct sign-in clears the account's counter for that address. The address counter
    stays: one valid account must not let an address go on guessing others."""
    key = _account_key(email, address)
    cache.delete_many([key, f"{key}:start"])
