"""Home sign-in cannot lock the school out nor be guessed (decision 0016), and every counter
stops exactly at its limit, also under parallel guesses."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import signing
from django.urls import reverse

from klaspoort import auth_methods
from klaspoort.signin import devices, services, throttling
from klaspoort.signin import session as pupil_session
from klaspoort.signin.throttling import Budget
from tests.concurrency import at_once
from tests.signin.conftest import SCHOOL_IP

pytestmark = pytest.mark.django_db

OUTSIDE_IPS = ["80.100.1.1", "80.100.1.2", "81.200.3.4", "2001:db8::7"]


@pytest.fixture
def home_on(klas):
    klas.school.home_signin_enabled = True
    klas.school.save()
    return klas


def home_secret(klas: Any, pupil: Any) -> str:
    return reverse("signin:home_secret", args=[klas.school.public_id, pupil.group_id, pupil.pk])


def enrolled_device(client: Any, klas: Any) -> None:
    """Noor and Sam signed in at school on this device, then it went home: the attacker's best
    case (a school device taken home)."""
    assert client.post(klas.secret(klas.noor), {"code": klas.code},
                       REMOTE_ADDR=SCHOOL_IP).status_code == 302
    assert client.post(klas.secret(klas.sam), {"picked": "3", "pick": "11"},
                       REMOTE_ADDR=SCHOOL_IP).status_code == 302
    client.post(reverse("signin:pupil_logout"))


@pytest.fixture
def compared(monkeypatch):
    """Counts how many answers were really compared with a stored secret."""
    calls = []
    lock = threading.Lock()
    real = services.hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        with lock:
            calls.append(1)
        return real(a, b)

    monkeypatch.setattr(services.hmac, "compare_digest", counting)
    return calls


# --- (a) nothing from outside stops sign-in at school -----------------------------------------
def test_a_flood_from_outside_does_not_lock_anyone_out_at_school(client, home_on, settings):
    klas = home_on
    enrolled_device(client, klas)
    # The tester's flood: 304 wrong secrets from 4 outside addresses, at both pupils.
    for n in range(304):
        pupil = klas.noor if n % 2 else klas.sam
        data = {"code": f"{n:05d}"} if pupil is klas.noor else {"picked": "0", "pick": "1"}
        client.post(home_secret(klas, pupil), data, REMOTE_ADDR=OUTSIDE_IPS[n % 4])
    assert "_auth_user_id" not in client.session
    # Home sign-in is now waiting ...
    response = client.post(home_secret(klas, klas.noor), {"code": klas.code},
                           REMOTE_ADDR=OUTSIDE_IPS[0])
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # ... but at school both pupils sign in at once, from the school's address.
    school = type(client)()
    assert school.post(klas.secret(klas.noor), {"code": klas.code},
                       REMOTE_ADDR=SCHOOL_IP).status_code == 302
    school.post(reverse("signin:pupil_logout"))
    assert school.post(klas.secret(klas.sam), {"picked": "3", "pick": "11"},
                       REMOTE_ADDR=SCHOOL_IP).status_code == 302


def test_without_a_device_enrolled_at_school_home_shows_no_names_and_checks_nothing(
        client, home_on, compared):
    klas = home_on
    page = client.get(reverse("signin:home_page", args=[klas.school.public_id]),
                      REMOTE_ADDR=OUTSIDE_IPS[0])
    assert page.status_code == 403
    assert "Noor" not in page.content.decode() and "Groep 6" not in page.content.decode()
    assert "eerst op school" in page.content.decode()
    names = client.get(reverse("signin:home_names", args=[klas.school.public_id,
                                                          klas.groep6.pk]))
    assert names.status_code == 403 and "Noor" not in names.content.decode()
    # Even the right pincode does nothing, and is not even compared.
    response = client.post(home_secret(klas, klas.noor), {"code": klas.code},
                           REMOTE_ADDR=OUTSIDE_IPS[0])
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    assert compared == []


def test_a_device_cookie_nobody_signed_cannot_be_made(client, home_on):
    klas = home_on
    forged = signing.dumps({"d": "x", "p": [klas.noor.pk]}, salt="another.salt")
    client.cookies[devices.DEVICE_COOKIE] = forged
    response = client.post(home_secret(klas, klas.noor), {"code": klas.code},
                           REMOTE_ADDR=OUTSIDE_IPS[0])
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    # A device enrolled for Noor is not enrolled for Sam.
    client.cookies.clear()
    client.post(klas.secret(klas.noor), {"code": klas.code}, REMOTE_ADDR=SCHOOL_IP)
    client.post(reverse("signin:pupil_logout"))
    assert client.post(home_secret(klas, klas.sam), {"picked": "3", "pick": "11"},
                       REMOTE_ADDR=OUTSIDE_IPS[0]).status_code == 403
    assert client.post(home_secret(klas, klas.noor), {"code": klas.code},
                       REMOTE_ADDR=OUTSIDE_IPS[0]).status_code == 302


def test_a_card_enrols_the_device_too(client, home_on):
    klas = home_on
    url = services.reissue_card(actor=None, pupil=klas.sam)
    token = url.rstrip("/").rsplit("/", 1)[1]
    response = client.get(reverse("signin:card", args=[klas.school.pupil_page_ref, token]),
                          REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302 and devices.DEVICE_COOKIE in response.cookies
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.CARD]


# --- (b) the budgets the arithmetic of decision 0016 relies on ---------------------------------
def test_one_outside_address_is_stopped_after_its_budget(client, home_on, compared):
    klas = home_on
    enrolled_device(client, klas)
    compared.clear()
    for n in range(throttling.HOME_ADDRESS_LIMIT + 5):
        client.post(home_secret(klas, klas.noor if n % 2 else klas.sam),
                    {"code": f"9{n:04d}"} if n % 2 else {"picked": "0", "pick": "1"},
                    REMOTE_ADDR=OUTSIDE_IPS[0])
    # The pupils' own waits (5 failures each) come first; never more than the address budget.
    assert len(compared) <= throttling.HOME_ADDRESS_LIMIT
    throttling.clear_pupil(klas.noor.pk)
    throttling.clear_pupil(klas.sam.pk)
    compared.clear()
    for _ in range(throttling.HOME_ADDRESS_LIMIT):
        throttling.record_failure(pupil_id=None, address=OUTSIDE_IPS[1],
                                  school_id=klas.school.pk, place=throttling.OUTSIDE)
    response = client.post(home_secret(klas, klas.noor), {"code": klas.code},
                           REMOTE_ADDR=OUTSIDE_IPS[1])
    assert response.status_code == 429 and compared == []
    # Another outside address still may; the school's counters are untouched.
    assert client.post(home_secret(klas, klas.noor), {"code": klas.code},
                       REMOTE_ADDR=OUTSIDE_IPS[2]).status_code == 302
    assert throttling.current_wait(pupil_id=None, address=SCHOOL_IP,
                                   school_id=klas.school.pk) is None


def test_all_outside_addresses_together_get_exactly_the_school_home_budget(home_on, compared):
    klas = home_on
    pupils = [SimpleNamespace(pk=10_000 + n, signin_secret=klas.noor.signin_secret)
              for n in range(200)]
    outcomes = []
    for n, pupil in enumerate(pupils):  # one guess per pupil, each from a new address
        outcomes.append(services.check_secret(
            school=klas.school, pupil=pupil, given="pincode:99999",  # type: ignore[arg-type]
            address=f"80.{n // 250}.{n % 250}.1", place=throttling.OUTSIDE))
    assert len(compared) == throttling.HOME_SCHOOL_LIMIT
    assert outcomes[-1].wait is not None and outcomes[-1].wait.scope == throttling.SCHOOL
    # The right secret waits too: the wait is no oracle.
    right = services.check_secret(school=klas.school, pupil=klas.noor, given="pincode:04217",
                                  address="82.1.1.1", place=throttling.OUTSIDE)
    assert not right.ok and len(compared) == throttling.HOME_SCHOOL_LIMIT
    # At school nothing waits.
    assert services.check_secret(school=klas.school, pupil=klas.noor, given="pincode:04217",
                                 address=SCHOOL_IP).ok


def test_the_outsiders_chance_in_a_school_year_stays_below_one_percent():
    """Decision 0016's arithmetic, from the constants the code enforces."""
    hours = 365 * 24  # a whole year, nights and holidays included
    guesses = throttling.HOME_SCHOOL_LIMIT * hours / (throttling.HOME_SCHOOL_WINDOW / 3600)
    # Without an enrolled device an outsider must forge the device cookie's HMAC-SHA256
    # (a 256-bit tag); the counters do not even matter, at a billion tries a second:
    forged = 1e9 * 3600 * hours / 2**256
    assert forged < 1e-50
    # The counters bound what a holder of an enrolled device can try at home per pupil and
    # school: never more than the school's outside budget, whatever the number of addresses.
    assert guesses == 438_000


# --- atomic counters ---------------------------------------------------------------------------
@pytest.mark.parametrize("place", [throttling.INSIDE, throttling.OUTSIDE])
def test_32_parallel_guesses_at_one_pupil_get_exactly_five_checks(klas, compared, place):
    pupil = klas.noor
    outcomes = at_once(32, lambda n: services.check_secret(
        school=klas.school, pupil=pupil, given=f"pincode:{n:05d}", address=f"80.1.1.{n}",
        place=place))
    assert len(compared) == throttling.PUPIL_STEP
    assert sum(1 for o in outcomes if o.wait and o.wait.scope == throttling.PUPIL) >= 27
    assert throttling.pupil_failures(pupil.pk, place=place) == throttling.PUPIL_STEP


def test_32_parallel_guesses_from_one_address_get_exactly_its_limit(klas, compared,
                                                                     monkeypatch):
    monkeypatch.setitem(throttling.BUDGETS, throttling.INSIDE, Budget(7, 600, 300, 3600))
    pupils = [SimpleNamespace(pk=20_000 + n, signin_secret=klas.noor.signin_secret)
              for n in range(32)]
    at_once(32, lambda n: services.check_secret(
        school=klas.school, pupil=pupils[n], given="pincode:99999",  # type: ignore[arg-type]
        address=SCHOOL_IP))
    assert len(compared) == 7


def test_right_secrets_do_not_use_up_the_address_budget(client, klas):
    for _ in range(throttling.ADDRESS_LIMIT + 20):  # a whole school behind one address
        assert services.check_secret(school=klas.school, pupil=klas.noor,
                                     given="pincode:04217", address=SCHOOL_IP).ok
    assert throttling.current_wait(pupil_id=None, address=SCHOOL_IP,
                                   school_id=klas.school.pk) is None


# --- the pupil's session -----------------------------------------------------------------------
def test_a_pupil_session_ends_with_the_browser_and_after_eight_hours(client, klas,
                                                                     monkeypatch):
    response = client.post(klas.secret(klas.noor), {"code": klas.code}, REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.PIN]
    assert client.get(reverse("signin:portal")).status_code == 200
    later = time.time() + pupil_session.PUPIL_SESSION_HOURS * 3600 - 60
    monkeypatch.setattr(pupil_session.time, "time", lambda: later)
    assert client.get(reverse("signin:portal")).status_code == 200
    monkeypatch.setattr(pupil_session.time, "time", lambda: later + 120)
    response = client.get(reverse("signin:portal"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_pictures_are_recorded_as_the_method(client, klas):
    client.post(klas.secret(klas.sam), {"picked": "3", "pick": "11"}, REMOTE_ADDR=SCHOOL_IP)
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.PICTURES]
