import sqlite3

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from klaspoort.roster.generator import generate_school
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory


@pytest.fixture(autouse=True)
def _default_language_for_every_test():
    """Each test starts in the default language, Dutch. The test client serves a request in the
    test's own thread, and a request with an English cookie leaves English active there, which
    would otherwise decide the language of the tests that happen to run after it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache_for_every_test():
    """Counters in the cache (throttling, upload limits) are keyed by ids that the next test's
    rows reuse; each test starts with none, as a fresh server would."""
    cache.clear()
    yield
    cache.clear()


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



@pytest.fixture
def commits_run_on_commit(monkeypatch):
    """Run transaction.on_commit callbacks when the code under test commits, as in production.

    pytest-django wraps each test in a transaction that never commits, so mail (sent after
    commit, klaspoort.mail.queue_mail) would never leave. With this fixture a callback runs
    as soon as no transaction but the test's own is open: at once outside the code's
    transactions, at the end of its outermost atomic block, and never after a rollback.
    Tests of the after-commit rule itself use django_capture_on_commit_callbacks instead.
    """
    from django.db import connection, connections
    from django.db.transaction import Atomic

    def only_the_tests_transaction() -> bool:
        return all(block._from_testcase for block in connection.atomic_blocks)

    def run_pending() -> None:
        pending = list(connection.run_on_commit)
        connection.run_on_commit[:] = []
        for _savepoints, func, _robust in pending:
            func()

    wrapper_class = type(connections["default"])
    original_on_commit = wrapper_class.on_commit
    original_exit = Atomic.__exit__

    def on_commit(self, func, robust=False):
        original_on_commit(self, func, robust)
        if self.in_atomic_block and only_the_tests_transaction():
            run_pending()

    def exit_(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        if not self._from_testcase and only_the_tests_transaction():
            run_pending()
        return result

    monkeypatch.setattr(wrapper_class, "on_commit", on_commit)
    monkeypatch.setattr(Atomic, "__exit__", exit_)


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
