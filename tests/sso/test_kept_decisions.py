"""Decision 0039: the decision /o/authorize takes is kept with the code and the access token and
reused while nothing behind it changed; any change answers with the rules of that moment."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from klaspoort.roster.models import Pupil
from klaspoort.sso.models import IssuedCode, PublisherClient
from tests.sso.conftest import authorize, code_from, pkce_pair, redeem, sign_in_at, userinfo


def _userinfo_counted(token: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = userinfo(token)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_userinfo_answers_from_the_kept_decision_while_nothing_changed(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    count, claims = _userinfo_counted(tokens["access_token"])
    assert claims["given_name"] == "Zoë"
    assert count == 1  # the access token itself; no rule asked again


def test_without_a_shared_cache_the_rules_are_asked_every_time(pupil_client, world, settings):
    settings.KLASPOORT_REUSE_DECISIONS = False
    tokens = sign_in_at(pupil_client, world.a)
    count, _claims = _userinfo_counted(tokens["access_token"])
    assert count > 3


def test_a_pupil_renamed_after_the_token_shows_the_new_name(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    Pupil.objects.filter(pk=world.pupil.pk).update(first_name="Zoey")
    _count, claims = _userinfo_counted(tokens["access_token"])
    assert claims["given_name"] == "Zoey"


def test_a_client_switched_off_between_authorize_and_token_gets_no_token(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    PublisherClient.objects.filter(publisher=world.a.publisher).update(
        disabled_at=timezone.now())
    response = redeem(world.a, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_pupil_deactivated_after_the_token_is_refused_at_userinfo(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    world.pupil.active = False
    world.pupil.save()
    assert userinfo(tokens["access_token"]).status_code == 403


def test_old_issued_code_records_are_cleared_by_a_later_authorization(pupil_client, world):
    old = IssuedCode.objects.create(code_hash="0" * 64, amr=[], acr="0")
    IssuedCode.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2))
    _verifier, challenge = pkce_pair()
    code_from(authorize(pupil_client, world.a, challenge=challenge))
    assert not IssuedCode.objects.filter(pk=old.pk).exists()
    assert IssuedCode.objects.count() == 1  # the new code's
