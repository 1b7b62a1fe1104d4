"""How a signed-in session records where the user signed in, and the IP rule that follows.

The single sign-on app asks `ip_rule_holds` before it lets a pupil open a method (R4.5): a pupil
who signed in on the school's pupil page may open methods only from the school's addresses; a
pupil who signed in at home (thuisinlog) only while the school allows home sign-in. Staff sign
in from anywhere.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.http import HttpRequest

from klaspoort.kept import Kept
from klaspoort.network import client_ip
from klaspoort.schools.models import School
from klaspoort.schools.selectors import school_facts

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User

SIGNIN_KIND = "klaspoort_signin_kind"  # "school" | "home" | "card"
SIGNIN_SCHOOL = "klaspoort_signin_school"  # the school's id
SIGNED_IN_AT = "klaspoort_signed_in_at"  # seconds since the epoch
PUPIL_SESSION_HOURS = 8  # a school day; a pupil signs in again the next day
AT_SCHOOL = "school"
AT_HOME = "home"
WITH_CARD = "card"


# How long the last sign-in's address is kept for *Waarom kan … niet openen?* (signin.why): two
# weeks covers a holiday week; it lives in the cache, never in the database or the audit trail.
LAST_SIGNIN_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class LastSignin:
    kind: str  # AT_SCHOOL | AT_HOME | WITH_CARD
    address: str
    at: datetime.datetime


def _last_signin_key(user_id: int) -> str:
    return "klaspoort:last-signin:" + hashlib.sha256(str(user_id).encode()).hexdigest()[:32]


def remember_pupil_signin(request: HttpRequest, school: School, kind: str) -> None:
    """Called by the pupil sign-in right after login(): how and where the pupil signed in, in
    the session (the IP rule) and, for the helpdesk's question why a method does not open, as
    the pupil's last sign-in in the cache for LAST_SIGNIN_SECONDS."""
    request.session[SIGNIN_KIND] = kind
    request.session[SIGNIN_SCHOOL] = school.pk
    request.session[SIGNED_IN_AT] = time.time()
    user_id = getattr(request.user, "pk", None)
    if user_id is not None:
        cache.set(_last_signin_key(user_id),
                  {"kind": kind, "address": client_ip(request), "at": time.time()},
                  LAST_SIGNIN_SECONDS)


def last_signin(user_id: int) -> LastSignin | None:
    """The pupil's last sign-in as remembered by remember_pupil_signin, or None when unknown
    (none in the last LAST_SIGNIN_SECONDS, or another process's memory without a shared
    cache)."""
    value = cache.get(_last_signin_key(user_id))
    if not isinstance(value, dict):
        return None
    try:
        at = datetime.datetime.fromtimestamp(float(value["at"]), tz=datetime.UTC)
        return LastSignin(str(value["kind"]), str(value["address"]), at)
    except (KeyError, TypeError, ValueError):
        return None


def pupil_session_over(request: HttpRequest, user: User | AnonymousUser) -> bool:
    """Rule: a pupil's session lasts at most PUPIL_SESSION_HOURS after the sign-in (also when
    the browser is never closed). A pupil session without a recorded time (one started before
    this rule) is given one now, so it too ends within the limit. Staff: never here (their
    sessions follow the staff rules)."""
    if getattr(user, "kind", None) != "pupil":
        return False
    started = request.session.get(SIGNED_IN_AT)
    if not isinstance(started, (int, float)):
        request.session[SIGNED_IN_AT] = time.time()
        return False
    return time.time() - started > PUPIL_SESSION_HOURS * 3600


def ip_rule_holds(request: HttpRequest, user: User | AnonymousUser) -> bool:
    """Whether this request may open a method for `user` as far as the IP rule goes.

    Rules: staff: always. A pupil signed in at school (pupil page or card): only while the
    request comes from one of the school's registered addresses. A pupil signed in at home: only
    while the school allows home sign-in. A pupil session without a record: never.
    """
    if getattr(user, "kind", None) != "pupil":
        return True
    kind = request.session.get(SIGNIN_KIND)
    school_id = request.session.get(SIGNIN_SCHOOL)
    # The school and its networks as kept under the access epoch (klaspoort.kept): a network
    # removed or home sign-in switched off holds at the next launch all the same.
    facts = school_facts(school_id, Kept.of(request)) if isinstance(school_id, int) else None
    if facts is None or kind is None:
        return False
    if kind == AT_HOME:
        return facts.school.home_signin_enabled
    return facts.allows(client_ip(request))
