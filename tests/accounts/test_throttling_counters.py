"""Issue 10, finding 4: staff throttling counts atomically, per network and per day, keeps the
code step's own count, and limits *Wachtwoord vergeten*."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort import counters
from klaspoort.accounts import throttling
from tests.concurrency import at_once
from tests.factories import PASSWORD, CoordinatorFactory
from tests.round_trips import round_trips_to_redis

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:second_factor_code")
RESET = reverse("accounts:password_reset")
# The Redis database of this xdist worker (tests/conftest.py gives each its own), when
# KLASPOORT_CACHE_URL=redis://... is set: clear() below empties the whole database.
REDIS_URL = (settings.CACHES["default"]["LOCATION"]
             if settings.CACHES["default"]["BACKEND"].endswith(".RedisCache") else "")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _backends() -> list:
    backends = [pytest.param("locmem", id="locmem")]
    backends.append(pytest.param("redis", id="redis", marks=pytest.mark.skipif(
        not REDIS_URL.startswith("redis://"), reason="KLASPOORT_CACHE_URL=redis://... not set")))
    return backends


@pytest.fixture(params=_backends())
def shared_cache(request, monkeypatch):
    """The counters on a fresh backend of the given kind: local memory, or the Redis of
    KLASPOORT_CACHE_URL (as several gunicorn workers share it)."""
    if request.param == "redis":
        from klaspoort.redis_cache import RedisCache

        backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "klaspoort-test-counters"})
    else:
        backend = LocMemCache("klaspoort-test-counters", {})
    backend.clear()
    monkeypatch.setattr(counters, "cache", backend)
    yield backend
    backend.clear()


def _in_parallel(threads: int, attempt) -> int:
    """Run `attempt` in that many threads released at the same moment; how many got through."""
    return sum(at_once(threads, lambda _thread: attempt()))


def test_32_parallel_password_guesses_get_exactly_5_checks(shared_cache):
    def guess() -> bool:
        attempt = throttling.begin_password_attempt("ict@regenboog.example", "203.0.113.66")
        if attempt.refused:
            return False
        throttling.password_failed(attempt, "ict@regenboog.example", None)  # a wrong guess
        return True

    assert _in_parallel(32, guess) == throttling.ACCOUNT_LIMIT
    # And afterwards too: the account is refused from that network.
    assert throttling.begin_password_attempt("ict@regenboog.example", "203.0.113.66").refused


def test_32_parallel_code_guesses_get_exactly_5_checks(shared_cache):
    def guess() -> bool:
        return not throttling.begin_code_attempt(42).refused

    assert _in_parallel(32, guess) == throttling.CODE_LIMIT


def test_32_parallel_counts_on_one_counter_all_count(shared_cache):
    assert _in_parallel(32, lambda: counters.hit("counter:test", 60) > 0) == 32
    assert counters.count("counter:test") == 32


def test_a_network_is_an_ipv4_address_or_an_ipv6_64():
    assert counters.network_of("198.51.100.7") == "198.51.100.7"
    assert counters.network_of("2001:db8:1:2:aaaa::1") == counters.network_of("2001:db8:1:2::9")
    assert counters.network_of("2001:db8:1:2::1") != counters.network_of("2001:db8:1:3::1")
    assert counters.network_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert counters.network_of("geen adres") == "geen adres"


def attempt(client, email, password, address):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_addresses_of_one_ipv6_64_share_the_account_limit(client, coordinator):
    for host in range(1, 6):
        attempt(client, coordinator.email, "fout", f"2001:db8:5:6::{host}")
    refused = attempt(client, coordinator.email, PASSWORD, "2001:db8:5:6::99")
    assert refused.status_code == 429
    assert "Te veel pogingen" in refused.content.decode()
    # Another /64 (the owner at school) is not touched.
    assert attempt(client, coordinator.email, PASSWORD, "2001:db8:5:7::1").status_code == 302


@pytest.mark.django_db
def test_100_failures_in_a_day_need_a_password_reset(client, coordinator):
    for n in range(throttling.DAILY_ACCOUNT_LIMIT):
        network = f"198.51.100.{n // 4}"  # never 5 from one network: only the day limit counts
        response = attempt(client, coordinator.email, "fout", network) if n == 99 else None
        if response is None:
            tried = throttling.begin_password_attempt(coordinator.email, network)
            assert not tried.refused, n
            throttling.password_failed(tried, coordinator.email, coordinator)
    refused = attempt(client, coordinator.email, PASSWORD, "192.0.2.1")
    assert refused.status_code == 429
    assert "Wachtwoord vergeten" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # A new password (the reset by e-mail) lets the owner in again.
    coordinator.set_password("NieuwWachtwoord77")
    coordinator.save()
    assert attempt(client, coordinator.email, "NieuwWachtwoord77", "192.0.2.1").status_code == 302


@pytest.mark.django_db
def test_an_address_without_an_account_reads_the_same_after_100_failures(client, coordinator):
    pages = []
    for email in (coordinator.email, "niemand@regenboog.example"):
        for n in range(throttling.DAILY_ACCOUNT_LIMIT):
            tried = throttling.begin_password_attempt(email, f"198.51.100.{n // 4}")
            throttling.password_failed(tried, email, None if "niemand" in email else coordinator)
        response = attempt(client, email, "fout", "192.0.2.1")
        pages.append((response.status_code, response.context["throttle_message"]))
    assert pages[0] == pages[1]


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.mark.django_db
def test_code_failures_have_their_own_count_that_a_password_does_not_reset(client, school):
    user = CoordinatorFactory(school=school)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    wrong = f"{(int(current_code(device)) + 500000) % 1000000:06d}"
    attempt(client, user.email, PASSWORD, "198.51.100.1")
    for _ in range(throttling.CODE_LIMIT):
        assert client.post(CODE, {"code": wrong}).status_code == 400
    assert client.post(CODE, {"code": current_code(device)}).status_code == 429
    # Signing in again with the right password, from elsewhere, gives no fresh code guesses.
    client.post(reverse("accounts:logout"))
    assert attempt(client, user.email, PASSWORD, "192.0.2.50")["Location"].startswith(CODE)
    response = client.post(CODE, {"code": current_code(device)})
    assert response.status_code == 429
    assert "Te veel pogingen" in response.content.decode()


@pytest.mark.django_db
def test_reset_requests_are_limited_per_address_and_read_the_same_for_any_address(
        client, coordinator, django_capture_on_commit_callbacks):
    answers = {}
    for email in (coordinator.email, "niemand@regenboog.example"):
        for n in range(throttling.RESET_LIMIT):
            with django_capture_on_commit_callbacks(execute=True):  # mail leaves on commit
                response = client.post(RESET, {"email": email}, REMOTE_ADDR=f"198.51.100.{n}")
            assert response.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            refused = client.post(RESET, {"email": email}, REMOTE_ADDR="198.51.100.200")
        assert refused.status_code == 429
        # The same page, but for the address typed and the form's secret token.
        answers[email] = re.sub(r"[A-Za-z0-9]{64}", "",
                                refused.content.decode().replace(email, "EMAIL"))
        assert "Te veel pogingen" in answers[email]
    assert len(mail.outbox) == throttling.RESET_LIMIT  # only the real account gets mail
    assert answers[coordinator.email] == answers["niemand@regenboog.example"]


@pytest.mark.django_db
def test_reset_requests_are_limited_per_network(client, coordinator):
    for n in range(throttling.RESET_LIMIT):
        client.post(RESET, {"email": f"iemand{n}@regenboog.example"}, REMOTE_ADDR="203.0.113.9")
    refused = client.post(RESET, {"email": coordinator.email}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert client.post(RESET, {"email": coordinator.email},
                       REMOTE_ADDR="198.51.100.1").status_code == 302


# --- on Redis, each counter operation is one script (issue 17) ------------------------------------
@pytest.fixture
def redis_counters(monkeypatch):
    """The counters on the Redis of KLASPOORT_CACHE_URL, and its raw client to move time on: a
    window "nearly over" is one whose keys are given a short lifetime left."""
    if not REDIS_URL.startswith("redis://"):
        pytest.skip("KLASPOORT_CACHE_URL=redis://... not set")
    from klaspoort.redis_cache import RedisCache

    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "klaspoort-test-counters"})
    backend.clear()
    monkeypatch.setattr(counters, "cache", backend)
    yield backend, backend._backend.get_client(write=True)
    backend.clear()


def _nearly_over(backend, client, name: str, milliseconds: int) -> None:
    for key in (name, f"{name}:start"):
        client.pexpire(backend.make_key(key), milliseconds)


def test_on_redis_later_hits_and_refunds_do_not_extend_the_window(redis_counters):
    backend, client = redis_counters
    name = counters.key("test-window", "ict@regenboog.example")
    counters.hit(name, 60)
    _nearly_over(backend, client, name, 300)
    # Later in the window: a failure, two reservations given back (down to 0) and a new hit.
    assert counters.hit(name, 60) == 2
    counters.refund(name)
    counters.refund(name)
    assert counters.hit(name, 60) == 1
    assert 0 < client.pttl(backend.make_key(name)) <= 300
    client.pexpire(backend.make_key(name), 1)  # the window ends
    client.pexpire(backend.make_key(f"{name}:start"), 1)
    while client.exists(backend.make_key(name)):
        pass
    # The next hit opens a fresh window, with its own start for the time left.
    assert counters.hit(name, 60) == 1
    assert counters.seconds_left(name, 60) == 60
    assert client.ttl(backend.make_key(name)) > 55


def test_on_redis_a_refund_after_the_window_ended_does_not_bring_the_counter_back(
        redis_counters):
    backend, client = redis_counters
    name = counters.key("test-refund", "203.0.113.66")
    counters.hit(name, 60)
    client.delete(backend.make_key(name))  # the window ended while the attempt was checked
    counters.refund(name)
    assert not client.exists(backend.make_key(name))
    assert counters.count(name) == 0
    assert counters.hit(name, 60) == 1 and client.ttl(backend.make_key(name)) > 55


def test_on_redis_values_are_stored_as_django_stores_them(redis_counters):
    backend, _client = redis_counters
    name = counters.key("test-format", "x")
    counters.hit(name, 60)
    counters.hit(name, 60)
    # Read back through the ordinary cache API: an integer, and the window's start as a time.
    assert backend.get(name) == 2
    assert abs(backend.get(f"{name}:start") - time.time()) < 5
    assert counters.minutes_left(name, 15 * 60) == 15


def test_on_redis_a_staff_password_attempt_costs_four_round_trips(redis_counters,
                                                                    monkeypatch):
    with round_trips_to_redis(monkeypatch) as trips:
        attempt = throttling.begin_password_attempt("ict@regenboog.example", "203.0.113.66")
        throttling.password_succeeded(attempt)
    # One per counter reserved (network, account, account's day), one for the three refunds.
    assert trips.count <= 4
    assert counters.count(counters.key("signin-network", "203.0.113.66")) == 0
