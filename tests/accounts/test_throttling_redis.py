"""On the production store: several gunicorn processes share one Redis, and the sign-in throttle
and the sessions must hold across them (docs/decisions/0028-tests-on-production-stores.md).

Each process of a server has its own cache connection. These tests give the code under test a
second, separate connection to the same Redis (or a real second Python process) and check that
what one process counted or ended, the other sees. On local memory, which the SQLite run uses,
every connection of one Python process shares the same dictionary, so the tests would prove
nothing there and are skipped; CI's PostgreSQL leg runs them on Redis (.ci/run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import caches
from django.urls import reverse

from klaspoort.accounts import throttling
from tests.factories import PASSWORD

LOGIN = reverse("accounts:login")
ATTACKER = "203.0.113.66"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.CACHES["default"]["BACKEND"].endswith(".RedisCache"),
        reason="no Redis cache configured (KLASPOORT_CACHE_URL=redis://...; CI's PostgreSQL "
               "leg sets it)"),
]


@contextmanager
def another_process() -> Iterator[None]:
    """Within the block the code under test uses a new connection to the default cache, with
    its own connection pool, as another gunicorn process has."""
    mine = caches["default"]
    theirs = caches.create_connection("default")
    assert theirs is not mine
    caches["default"] = theirs
    try:
        yield
    finally:
        caches["default"] = mine
        theirs.close()


def attempt(client, email, password, address=ATTACKER):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_the_staff_sign_in_throttle_counts_failures_made_in_two_processes(client, coordinator):
    # Three failures reach one process and two another: together the account's 5 from this
    # network. Were each process counting alone, the right password would get in below.
    for _ in range(3):
        assert attempt(client, coordinator.email, "wrong-Password1").status_code == 200
    with another_process():
        for _ in range(throttling.ACCOUNT_LIMIT - 3):
            assert attempt(client, coordinator.email, "wrong-Password1").status_code == 200
    refused = attempt(client, coordinator.email, PASSWORD)
    assert refused.status_code == 429
    assert "Te veel pogingen" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_counted_by_a_separate_python_process_refuse_the_sign_in_here(
        client, coordinator, tmp_path):
    # A real second process: its own interpreter, settings and Redis connection, pointed at
    # this worker's Redis database as a gunicorn worker is pointed at the shared Redis.
    script = (
        "import django; django.setup()\n"
        "from klaspoort.accounts import throttling\n"
        "for _ in range(throttling.ACCOUNT_LIMIT):\n"
        f"    tried = throttling.begin_password_attempt({coordinator.email!r}, {ATTACKER!r})\n"
        "    assert not tried.refused\n"
        f"    throttling.password_failed(tried, {coordinator.email!r}, None)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "klaspoort.settings",
           "KLASPOORT_VAR_DIR": str(tmp_path / "var"),
           "KLASPOORT_CACHE_URL": settings.CACHES["default"]["LOCATION"]}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    refused = attempt(client, coordinator.email, PASSWORD)
    assert refused.status_code == 429
    # Another network is not touched by them.
    assert attempt(client, coordinator.email, PASSWORD, "198.51.100.10").status_code == 302


def test_a_session_lives_in_redis_and_signing_out_in_one_process_ends_it_in_the_other(
        client, coordinator, school):
    beheer = reverse("schools:data", kwargs={"brin6": school.brin6})
    assert attempt(client, coordinator.email, PASSWORD, "198.51.100.10").status_code == 302
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    # cached_db (settings.py, with a cache URL): the session is read from Redis.
    with another_process():
        assert caches["default"].get(SessionStore(session_key).cache_key) is not None
        assert client.get(beheer).status_code == 200
        client.post(reverse("accounts:logout"))
        assert caches["default"].get(SessionStore(session_key).cache_key) is None
    # The first process must not go on serving the ended session from a cache of its own.
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client.get(beheer)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
