"""Decision 0039: the decision /o/authorize takes is kept with the code and the access token and
reused while nothing behind it changed; any change answers with the rules of that moment."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import Application

from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.roster.models import Group, Pupil
from klaspoort.sso import services
from klaspoort.sso.models import PublisherClient
from tests.licences.factories import ChildLicenceFactory, ContractFactory
from tests.sso.conftest import authorize, code_from, pkce_pair, redeem, sign_in_at, userinfo
from tests.sso.test_secret_rotation import token_request


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


def test_a_client_changed_after_it_was_kept_counts_at_the_very_next_request(pupil_client, world):
    sign_in_at(pupil_client, world.a)  # the client's application is kept now
    application = world.a.client.client.application
    old = world.a.client.client_secret
    new = services.rotate_secret(world.a.client.client, actor=None)
    services.end_overlap(PublisherClient.objects.get(pk=world.a.client.client.pk), actor=None)
    assert token_request(pupil_client, world.a, old).status_code == 401
    assert token_request(pupil_client, world.a, new).status_code == 200

    Application.objects.filter(pk=application.pk).update(
        redirect_uris="https://elders.example/oidc/callback")
    response = authorize(pupil_client, world.a, challenge=pkce_pair()[1])
    assert response.status_code == 400  # the old redirect URI is no longer the client's
    assert "code=" not in response.get("Location", "")


def test_the_next_sign_in_at_authorize_sees_a_group_renamed_since_the_first(pupil_client, world):
    first = userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    assert [g["name"] for g in first["groups"]] == [world.group.name]
    Group.objects.filter(pk=world.group.pk).update(name="Groep 6b")
    second = userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    assert [g["name"] for g in second["groups"]] == ["Groep 6b"]


def test_a_group_licence_removed_since_the_first_sign_in_refuses_the_next(pupil_client, world):
    sign_in_at(pupil_client, world.a)
    GroupLicence.objects.filter(group=world.group, contract__publisher=world.a.publisher).update(
        removed_at=timezone.now())
    _verifier, challenge = pkce_pair()
    assert authorize(pupil_client, world.a, challenge=challenge).status_code == 403


def test_a_group_the_publisher_no_longer_sees_leaves_the_claims_of_the_next_sign_in(
        pupil_client, world):
    # The pupil keeps the method by a licence of their own, so only the group's link goes.
    ChildLicenceFactory(contract=ContractFactory(
        product=world.a.product, school=world.school, contract_type=Contract.Type.CHILD,
        seats=5), pupil=world.pupil)
    first = userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    assert len(first["groups"]) == 1
    GroupLicence.objects.filter(group=world.group, contract__publisher=world.a.publisher).update(
        removed_at=timezone.now())
    second = userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    assert second["groups"] == []


def test_a_pupil_deactivated_since_the_first_sign_in_is_refused_at_the_next(pupil_client, world):
    sign_in_at(pupil_client, world.a)
    Pupil.objects.filter(pk=world.pupil.pk).update(active=False)
    _verifier, challenge = pkce_pair()
    assert authorize(pupil_client, world.a, challenge=challenge).status_code == 403
