"""The nightly clean-up of what a day's sign-ins leave behind (issue 17, sizing)."""

from __future__ import annotations

import datetime

from django.contrib.sessions.models import Session
from django.utils import timezone
from oauth2_provider.models import AccessToken

from klaspoort.sessions.db import SessionStore
from klaspoort.sso.tasks import clear_expired_sign_ins
from tests.sso.conftest import sign_in_at, userinfo


def test_the_night_removes_expired_sessions_and_tokens_and_keeps_live_ones(
        pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    old = SessionStore()
    old["pupil"] = True
    old.save()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1))
    expired_token = AccessToken.objects.create(
        token="verlopen", expires=timezone.now() - datetime.timedelta(minutes=1),
        application=world.a.client.client.application, scope="openid")

    clear_expired_sign_ins.delay()

    assert not Session.objects.filter(session_key=old.session_key).exists()
    assert not AccessToken.objects.filter(pk=expired_token.pk).exists()
    # The pupil's live session and token still work.
    assert pupil_client.get("/lesmateriaal/").status_code == 200
    assert userinfo(tokens["access_token"]).status_code == 200

