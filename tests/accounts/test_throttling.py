"""Throttled staff sign-in, session rotation and signing out everywhere."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, CoordinatorFactory

LOGIN = reverse("accounts:login")
ATTACKER = "203.0.113.66"
SCHOOL_ADDRESS = "198.51.100.10"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(client, email, password, address):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def beheer(school) -> str:
    return reverse("schools:data", kwargs={"brin6": school.brin6})


def test_five_failures_lock_the_account_from_that_address_even_for_the_right_password(
        client, coordinator, school):
    for _ in range(5):
        assert attempt(client, coordinator.email, "wrong-Password1", ATTACKER).status_code == 200
    response = attempt(client, coordinator.email, PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert "15" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(beheer(school)).status_code == 302


def test_lock_does_not_reach_the_owner_at_another_address(client, coordinator, school):
    for _ in range(6):
        attempt(Client(), coordinator.email, "wrong-Password1", ATTACKER)
    response = attempt(client, coordinator.email, PASSWORD, SCHOOL_ADDRESS)
    assert response.status_code == 302
    assert client.get(beheer(school)).status_code == 200


def test_four_failures_then_the_right_password_signs_in(client, coordinator):
    for _ in range(4):
        attempt(client, coordinator.email, "wrong-Password1", ATTACKER)
    assert attempt(client, coordinator.email, PASSWORD, ATTACKER).status_code == 302


def test_twenty_failures_from_one_address_refuse_that_address(client, school):
    users = [CoordinatorFactory(school=school) for _ in range(5)]
    for user in users[:4]:
        for _ in range(5):
            attempt(client, user.email, "wrong-Password1", ATTACKER)
    # users[4] never failed, yet the address as a whole has had its 20 tries.
    response = attempt(client, users[4].email, PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert attempt(Client(), users[4].email, PASSWORD, SCHOOL_ADDRESS).status_code == 302


def test_session_key_changes_at_sign_in(client, coordinator):
    session = SessionStore()
    session["probe"] = "before sign-in"
    session.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key

    assert attempt(client, coordinator.email, PASSWORD, SCHOOL_ADDRESS).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)


def test_sign_out_everywhere_ends_other_sessions(coordinator, school):
    laptop, tablet = Client(), Client()
    for device in (laptop, tablet):
        assert attempt(device, coordinator.email, PASSWORD, SCHOOL_ADDRESS).status_code == 302
        assert device.get(beheer(school)).status_code == 200

    response = laptop.post(reverse("accounts:sign_out_everywhere"))
    assert response.status_code == 302
    assert laptop.get(beheer(school)).status_code == 302
    assert tablet.get(beheer(school)).status_code == 302

    # Signing in again afterwards works as usual.
    assert attempt(tablet, coordinator.email, PASSWORD, SCHOOL_ADDRESS).status_code == 302
    assert tablet.get(beheer(school)).status_code == 200
