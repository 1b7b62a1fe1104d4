"""Throttling of staff sign-in, the code step and *Wachtwoord vergeten* (numbers and reasons in
docs/decisions/0008).

Every attempt first reserves a place in each of its counters (klaspoort.counters.hit, atomic in
the shared cache) and is only then let through or refused, so parallel guesses cannot slip past
a check. Counters:

- password, per account from one network: 5 failures in 15 minutes;
- password, per network (IPv4 address, IPv6 /64), any accounts: 20 failures in 15 minutes;
- password, per account from anywhere: 100 failures in 24 hours, after which the account can
  only sign in again after a password reset by e-mail (NIST SP 800-63B §5.2.2);
- code step, per account from anywhere: 5 failures in 15 minutes and 20 in 24 hours; a correct
  password does not touch these;
- *Wachtwoord vergeten*, per e-mail address and per network: 5 requests an hour.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from klaspoort import counters

if TYPE_CHECKING:
    from klaspoort.accounts.models import User

WINDOW_SECONDS = 15 * 60
DAY_SECONDS = 24 * 60 * 60
ACCOUNT_LIMIT = 5  # password failures for one account from one network within the window
ADDRESS_LIMIT = 20  # password failures from one network, whatever the accounts, in the window
DAILY_ACCOUNT_LIMIT = 100  # password failures for one account from anywhere in a day
CODE_LIMIT = 5  # code-step failures for one account within the window
DAILY_CODE_LIMIT = 20  # code-step failures for one account in a day
RESET_WINDOW_SECONDS = 60 * 60
RESET_LIMIT = 5  # reset requests for one address, and from one network, within an hour
# How long the "reset your password first" mark is kept; a reset ends it at once.
RESET_NEEDED_SECONDS = 90 * DAY_SECONDS


def _email(email: str) -> str:
    return str(email).strip().lower()[:254]


@dataclass
class Attempt:
    """The reservations one attempt holds; `refused` is set when a counter was already full."""

    keys: list[str]
    refused: bool = False
    wait_minutes: int = 0

    def refund(self) -> None:
        """Give back every reservation (the attempt did not count as a failure)."""
        counters.refund(*self.keys)


def _reserve(limits: list[tuple[str, int, int]]) -> Attempt:
    """Reserve one place in each (key, limit, window); refused, with everything given back,
    when any of them was full already.

    A refused attempt stops at the first full counter and does not reserve in the later ones:
    its passing reservation there would, for a moment, make a later counter look fuller than it
    is, and refuse an attempt that the limits allow (32 parallel code guesses got 4 checks where
    5 are allowed, because the refused ones briefly filled the day counter)."""
    attempt = Attempt(keys=[])
    for position, (name, limit, window) in enumerate(limits):
        attempt.keys.append(name)
        if counters.hit(name, window) > limit:
            attempt.refused = True
            attempt.wait_minutes = counters.minutes_left(name, window)
            # The wait is the longest of every counter that is full, reserved in or not.
            for later, later_limit, later_window in limits[position + 1:]:
                if counters.count(later) >= later_limit:
                    attempt.wait_minutes = max(attempt.wait_minutes,
                                               counters.minutes_left(later, later_window))
            attempt.refund()
            return attempt
    return attempt


# --- Password -----------------------------------------------------------------------------------
def _password_limits(email: str, address: str) -> list[tuple[str, int, int]]:
    network = counters.network_of(address)
    return [
        (counters.key("signin-network", network), ADDRESS_LIMIT, WINDOW_SECONDS),
        (counters.key("signin-account", _email(email), network), ACCOUNT_LIMIT, WINDOW_SECONDS),
        (counters.key("signin-account-day", _email(email)), DAILY_ACCOUNT_LIMIT, DAY_SECONDS),
    ]


def begin_password_attempt(email: str, address: str) -> Attempt:
    """Reserve a password attempt for this account from this address. Refused (before the
    password is even checked, so a right guess is never learnt) when the account or the network
    has used its failures."""
    return _reserve(_password_limits(email, address))


def password_failed(attempt: Attempt, email: str, user: User | None) -> None:
    """The attempt failed: its reservations stay as failures. The 100th failure of the day
    marks the account as needing a password reset."""
    if counters.count(counters.key("signin-account-day", _email(email))) >= DAILY_ACCOUNT_LIMIT:
        _mark_reset_needed(email, user)


def password_succeeded(attempt: Attempt) -> None:
    """A correct password: the attempt was no failure. The network's other failures stay (one
    valid account must not let a network go on guessing others); the code-step counters are
    not touched."""
    attempt.refund()


def _fingerprint(user: User | None) -> str:
    # The mark holds while the password is the one it was set for: a reset changes the hash.
    password = getattr(user, "password", "") or ""
    return hashlib.sha256(f"klaspoort-reset-needed|{password}".encode()).hexdigest()


def _mark_reset_needed(email: str, user: User | None) -> None:
    counters.cache.set(counters.key("signin-reset-needed", _email(email)), _fingerprint(user),
                       RESET_NEEDED_SECONDS)


def reset_needed(email: str, user: User | None) -> bool:
    """Whether the account had 100 failed sign-ins in a day and its password has not been reset
    since. Answers alike for an address without an account, which says nothing about it."""
    mark_key = counters.key("signin-reset-needed", _email(email))
    mark = counters.cache.get(mark_key)
    if mark is None:
        return False
    if mark == _fingerprint(user):
        return True
    # The password was reset since: the day's failures were answered, start afresh.
    counters.cache.delete(mark_key)
    counters.clear(counters.key("signin-account-day", _email(email)))
    return False


# --- Code step ----------------------------------------------------------------------------------
def begin_code_attempt(user_id: int) -> Attempt:
    """Reserve a code attempt for the account, from any address: the one who knows the password
    must not get fresh code guesses by changing address or signing in again."""
    return _reserve([
        (counters.key("code-account", user_id), CODE_LIMIT, WINDOW_SECONDS),
        (counters.key("code-account-day", user_id), DAILY_CODE_LIMIT, DAY_SECONDS),
    ])


def code_succeeded(attempt: Attempt) -> None:
    """A right code is no failure."""
    attempt.refund()


# --- Wachtwoord vergeten ------------------------------------------------------------------------
def begin_reset_request(email: str, address: str) -> Attempt:
    """Count one reset request for the address and the network; refused after RESET_LIMIT of
    either within the hour. Every request counts, whether or not the address has an account."""
    return _reserve([
        (counters.key("reset-email", _email(email)), RESET_LIMIT, RESET_WINDOW_SECONDS),
        (counters.key("reset-network", counters.network_of(address)), RESET_LIMIT,
         RESET_WINDOW_SECONDS),
    ])
