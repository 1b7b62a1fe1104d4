"""A pupil's sign-in writes its session once (klaspoort.sessions), and still gets a new session
key: a key somebody planted before the sign-in never becomes a signed-in session."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klaspoort.sessions.cached_db import SessionStore as CachedSessionStore
from klaspoort.sessions.db import SessionStore
from tests.signin.test_pupil_signin import at_school

pytestmark = pytest.mark.django_db


def sign_in(client, klas):
    return at_school(client, klas.secret(klas.noor), {"code": klas.code, "key": "ok"})


def test_the_sign_in_writes_its_session_once_and_the_portal_reads_it(client, klas):
    with CaptureQueriesContext(connection) as queries:
        assert sign_in(client, klas).status_code == 302
    sessions = [q["sql"] for q in queries if "django_session" in q["sql"]]
    assert len(sessions) == 1 and sessions[0].startswith("INSERT")
    assert Session.objects.count() == 1
    portal = at_school(client, reverse("signin:portal"))
    assert portal.status_code == 200 and "Noor V." in portal.content.decode()


def test_a_planted_session_key_is_not_the_signed_in_one(client, klas):
    planted = SessionStore()
    planted["something"] = "from the attacker"
    planted.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert sign_in(client, klas).status_code == 302
    signed_in = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert Session.objects.filter(session_key=signed_in).exists()
    # The planted key, sent again, is nobody's session.
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert at_school(client, reverse("signin:portal")).status_code == 302


def test_a_key_taken_already_gets_a_new_one_instead_of_overwriting_it(client, klas,
                                                                     monkeypatch):
    other = SessionStore()
    other["mine"] = "not yours"
    other.save()
    keys = iter([other.session_key, "k" * 32])
    monkeypatch.setattr("klaspoort.sessions.get_random_string", lambda *_args: next(keys))
    store = SessionStore()
    store["new"] = "data"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(other.session_key).load() == {"mine": "not yours"}
    assert SessionStore("k" * 32).load() == {"new": "data"}


def test_the_cached_store_puts_the_new_session_in_the_cache(settings):
    store = CachedSessionStore()
    store["new"] = "data"
    store.save()
    assert store._cache.get(store.cache_key) == {"new": "data"}
    assert CachedSessionStore(store.session_key).load() == {"new": "data"}


def test_a_pupils_session_is_kept_on_the_server_for_a_school_day_not_two_weeks(client, klas):
    import datetime

    from django.utils import timezone

    before = timezone.now()
    assert sign_in(client, klas).status_code == 302
    row = Session.objects.get()
    kept = row.expire_date - before
    assert datetime.timedelta(hours=8) < kept <= datetime.timedelta(hours=12, seconds=5)
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""  # ends with the browser


def test_a_staff_session_keeps_djangos_lifetime():
    store = SessionStore()
    store["staff"] = True
    store.save()
    assert store.get_expiry_age() == settings.SESSION_COOKIE_AGE
