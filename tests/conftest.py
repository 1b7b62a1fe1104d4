import os
import sqlite3
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.utils import translation

from klaspoort.roster.generator import generate_school
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory


def pytest_configure(config):
    _a_redis_database_per_xdist_worker()


def _a_redis_database_per_xdist_worker() -> None:
    """With KLASPOORT_CACHE_URL=redis://host:port/N (CI's PostgreSQL leg) the xdist worker gwK
    uses Redis database N-K, so `-n 2` on /15 uses 15 and 14, and without xdist N itself.

    Each worker needs a database of its own, not a KEY_PREFIX: the cache is emptied around
    every test (below), and Django's RedisCache.clear() is FLUSHDB, which empties the whole
    database whatever the prefix, so one worker would wipe the other's throttling counters and
    sessions in the middle of a test. Counting down keeps /15, the last of Redis's 16 default
    databases, usable.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache_settings = settings.CACHES["default"]
    if not worker or not cache_settings["BACKEND"].endswith(".RedisCache"):
        return
    location = urlsplit(cache_settings["LOCATION"])
    first = int(location.path.strip("/") or 0)
    number = first - int(worker.removeprefix("gw"))
    if number < 0:
        raise pytest.UsageError(
            f"KLASPOORT_CACHE_URL names Redis database {first}: too few databases below it "
            f"for xdist worker {worker} (each worker uses its own, counting down).")
    cache_settings["LOCATION"] = location._replace(path=f"/{number}").geturl()
    # Django builds its cache connections from the settings once: start again from these.
    from django.test.signals import setting_changed

    setting_changed.send(sender=None, setting="CACHES", value=settings.CACHES, enter=True)


@pytest.fixture(autouse=True)
def _default_language_for_every_test():
    """Each test starts in the default language, Dutch. The test client serves a request in the
    test's own thread, and a request with an English cookie leaves English active there, which
    would otherwise decide the language of the tests that happen to run after it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _decisions_reused_as_in_production(settings):
    """Production (with Redis) reuses a sign-in decision while the access epoch holds
    (decision 0039); a test runs in one process, where the local-memory cache is shared by
    everything the test does, so every test runs the production path."""
    settings.KLASPOORT_REUSE_DECISIONS = True


@pytest.fixture(autouse=True)
def _empty_cache_for_every_test():
    """Counters in the cache (throttling, upload limits) are keyed by ids that the next test's
    rows reuse; each test starts with none, as a fresh server would (this process's copy of
    the form targets of the security headers included)."""
    from klaspoort.security_headers import forget_form_targets

    cache.clear()
    forget_form_targets()
    yield
    cache.clear()
    forget_form_targets()


@pytest.fixture
def keep_the_test_connection(monkeypatch):
    """Calls through the WSGI application (schemathesis) are not Django's test client: at the
    end of each request Django closes a connection older than CONN_MAX_AGE, and on PostgreSQL
    that ends the test's transaction, so every later query fails. Disconnecting the signal is
    not enough, because each request of the test client connects it again; the connections
    themselves are told to stay open instead."""
    for each in connections.all():
        monkeypatch.setattr(each, "close_if_unusable_or_obsolete", lambda: None)


@pytest.fixture
def shared_database(transactional_db, tmp_path):
    """A database that several threads really share.

    The in-memory SQLite database of the tests keeps one shared cache, in which SQLite answers
    "table is locked" at once instead of waiting as it does for the file a real installation
    uses. So on SQLite the test database is copied to a file for the length of the test, with
    the settings of the project (IMMEDIATE transactions, WAL, busy timeout).
    """
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    connection.ensure_connection()
    # The in-memory database lives as long as a connection to it is open: keep this one aside.
    in_memory = connection.connection
    target = sqlite3.connect(tmp_path / "klaspoort.sqlite3")
    in_memory.backup(target)
    target.close()
    connection.connection = None
    settings_dict["NAME"] = str(tmp_path / "klaspoort.sqlite3")
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = original
        connection.connection = in_memory


@pytest.fixture
def school(db):
    return SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")


@pytest.fixture
def coordinator(school):
    return CoordinatorFactory(school=school, email="ict@regenboog.example")


@pytest.fixture
def coordinator_client(client, coordinator):
    assert client.login(email=coordinator.email, password=PASSWORD)
    return client


@pytest.fixture
def school_file():
    """A realistic EDEXML file for school 99ZZ00 with the given number of pupils."""

    def make(pupils: int = 60, brin: str = "99ZZ", dependancecode: str = "00", seed: int = 1
             ) -> bytes:
        return generate_school(brin, dependancecode, pupils, seed=seed)

    return make


@pytest.fixture(autouse=True)
def _operators_signed_in_by_tests_have_shown_a_code(monkeypatch):
    """client.login / force_login stand for a finished sign-in. An operator (is_staff) must have
    a second factor and have shown a code before reaching anything (accounts.middleware), so a
    test's operator gets an app and a verified session here. The real sign-in of an operator,
    password and code step, is tested in tests/accounts through the sign-in pages."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        if getattr(user, "is_staff", False):
            device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
                      or TOTPDevice.objects.create(user=user, name="test", confirmed=True))
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "_login", _login)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A machine without chromium skips the browser tests; say so loudly at the end of the run,
    with the way to install it, rather than in one short line among the skips."""
    from tests.browser_support import CHROMIUM

    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "no chromium at" in str(getattr(report, "longrepr", ""))]
    if not skipped:
        return
    terminalreporter.write_sep("!", f"{len(skipped)} BROWSER TESTS WERE NOT RUN", red=True,
                               bold=True)
    terminalreporter.write_line(
        f"There is no chromium at {CHROMIUM}, so nothing was checked in a real browser. Install "
        "Debian's chromium (sudo apt-get install chromium; never a downloaded browser) and run "
        "make test again, or set KLASPOORT_CHROMIUM to another chromium binary.", red=True)
