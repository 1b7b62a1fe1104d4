"""The attacks and slips the issue lists: each must fail the way a publisher would notice."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, IDToken

from klaspoort.schools.models import PublisherConsent
from klaspoort.sso.selectors import code_grant
from klaspoort.sso.services import redeem_code
from klaspoort.sso.validators import KlaspoortValidator
from tests.sso.conftest import (
    authorize,
    code_from,
    no_code_issued,
    pkce_pair,
    redeem,
    sign_in_at,
    userinfo,
)


def _error(response) -> str:
    query = parse_qs(urlsplit(response["Location"]).query)
    assert "code" not in query
    return query["error"][0]


def test_pkce_missing_is_refused(pupil_client, world):
    response = authorize(pupil_client, world.a, challenge=None, method=None)
    assert response.status_code == 302
    assert _error(response) == "invalid_request"
    assert no_code_issued()


def test_pkce_plain_is_refused(pupil_client, world):
    verifier, _challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=verifier, method="plain")
    assert _error(response) == "invalid_request"
    assert no_code_issued()


def test_pkce_without_a_method_counts_as_plain_and_is_refused(pupil_client, world):
    verifier, _challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=verifier, method=None)
    assert _error(response) == "invalid_request"


def test_a_wrong_code_verifier_is_refused(pupil_client, world):
    _verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    other, _ = pkce_pair()
    response = redeem(world.a, code, other)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_redirect_uri_that_differs_by_one_character_is_refused(pupil_client, world):
    _verifier, challenge = pkce_pair()
    for wrong in (world.a.redirect_uri[:-1], world.a.redirect_uri + "/",
                  world.a.redirect_uri.replace("methode-a", "methode-b"),
                  world.a.redirect_uri.replace("https", "http")):
        params = {"response_type": "code", "client_id": world.a.client.client_id,
                  "redirect_uri": wrong, "scope": "openid", "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        response = pupil_client.get("/o/authorize/", params, REMOTE_ADDR="203.0.113.5")
        # Never sent anywhere: the toolkit's own error page, no redirect.
        assert response.status_code == 400, wrong
        assert not response.has_header("Location")
    assert no_code_issued()


def test_a_code_used_twice_is_refused(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    assert redeem(world.a, code, verifier).status_code == 200
    again = redeem(world.a, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_of_two_redemptions_of_one_code_at_the_same_moment_only_one_gets_tokens(
        pupil_client, world, monkeypatch):
    """The second request has passed every check when the first takes the code: it must
    still get invalid_grant, and nothing of it may be saved."""
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    validate = KlaspoortValidator.validate_code

    def redeemed_elsewhere_meanwhile(self, client_id, code_, client, request, *args, **kwargs):
        valid = validate(self, client_id, code_, client, request, *args, **kwargs)
        assert redeem_code(code_)  # another server's request redeems it right now
        return valid

    monkeypatch.setattr(KlaspoortValidator, "validate_code", redeemed_elsewhere_meanwhile)
    response = redeem(world.a, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()


def test_a_wrong_code_verifier_does_not_use_up_the_code(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    assert redeem(world.a, code, pkce_pair()[0]).status_code == 400
    assert redeem(world.a, code, verifier).status_code == 200


def test_a_code_lives_at_most_60_seconds(pupil_client, world):
    verifier, challenge = pkce_pair()
    before = timezone.now()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    grant = code_grant(code)
    assert grant is not None and grant.expires <= before + datetime.timedelta(seconds=61)
    with mock.patch("django.utils.timezone.now",
                    return_value=before + datetime.timedelta(seconds=61)):
        response = redeem(world.a, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_of_publisher_a_is_refused_at_publisher_b(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    stolen = redeem(world.a, code, verifier, as_pub=world.b, redirect_uri=world.b.redirect_uri)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    # The code still works for its own client: B's attempt did not consume it.
    assert redeem(world.a, code, verifier).status_code == 200


def test_tokens_of_publisher_a_say_nothing_about_publisher_b(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    claims = userinfo(tokens["access_token"]).json()
    assert claims["products"] == [world.a.product.code]
    b_tokens = sign_in_at(pupil_client, world.b)
    assert userinfo(b_tokens["access_token"]).json()["sub"] != claims["sub"]


def test_a_confidential_client_must_authenticate(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    response = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": world.a.redirect_uri, "client_id": world.a.client.client_id,
        "client_secret": "wrong"})
    assert response.status_code == 401


def _withdraw(world) -> None:
    PublisherConsent.objects.filter(school=world.school, publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())


def test_consent_withdrawn_between_tile_and_token_refuses_the_token(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    _withdraw(world)
    response = redeem(world.a, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_consent_withdrawn_after_the_token_refuses_userinfo(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    _withdraw(world)
    response = userinfo(tokens["access_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"


def test_a_contract_ended_after_the_token_refuses_userinfo(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    world.a.contract.start = yesterday - datetime.timedelta(days=10)
    world.a.contract.end = yesterday
    world.a.contract.save()
    assert userinfo(tokens["access_token"]).status_code == 403


def test_no_implicit_flow(pupil_client, world):
    response = pupil_client.get("/o/authorize/", {
        "response_type": "token", "client_id": world.a.client.client_id,
        "redirect_uri": world.a.redirect_uri, "scope": "openid"}, REMOTE_ADDR="203.0.113.5")
    assert "access_token" not in response.get("Location", "")
    assert _error(response) == "unauthorized_client"


def test_no_hybrid_flow(pupil_client, world):
    _verifier, challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=challenge,
                         response_type="code id_token")
    assert "id_token=" not in response.get("Location", "")


def test_no_password_client_credentials_or_refresh_grant(world):
    for data in ({"grant_type": "password", "username": "x", "password": "y"},
                 {"grant_type": "client_credentials"},
                 {"grant_type": "refresh_token", "refresh_token": "whatever"}):
        data.update(client_id=world.a.client.client_id,
                    client_secret=world.a.client.client_secret)
        response = Client().post("/o/token/", data)
        assert response.status_code in (400, 401), data
        assert "access_token" not in response.json()


def test_a_client_without_publisher_is_refused_with_a_page(pupil_client, world):
    app = Application.objects.create(
        name="Los", client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://los.example/cb", algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True)
    _verifier, challenge = pkce_pair()
    response = pupil_client.get("/o/authorize/", {
        "response_type": "code", "client_id": app.client_id, "redirect_uri": "https://los.example/cb",
        "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"},
        REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 403
    assert no_code_issued()


def test_the_consent_form_post_of_the_toolkit_is_closed(pupil_client, world):
    _verifier, challenge = pkce_pair()
    response = pupil_client.post("/o/authorize/", {
        "client_id": world.a.client.client_id, "redirect_uri": world.a.redirect_uri,
        "response_type": "code", "scope": "openid", "allow": "Authorize",
        "code_challenge": challenge, "code_challenge_method": "S256"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 405
    assert no_code_issued()


def test_application_management_pages_are_not_served(pupil_client):
    assert pupil_client.get("/o/applications/").status_code == 404
    assert pupil_client.get("/o/applications/register/").status_code == 404
