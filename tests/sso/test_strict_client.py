"""The provider as a strict, certified OpenID client sees it (issue 10, findings 2 and 11):
`iss` on every authorization answer, amr/acr in the ID token, a fresh sign-in for prompt=login
and max_age, RFC 6749/6750 error answers, replayed codes and revocation."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, IDToken

from klaspoort import auth_methods
from klaspoort.schools.models import PublisherConsent
from klaspoort.signin.session import AT_HOME
from klaspoort.sso.selectors import ACR_PUPIL_HOME, ACR_PUPIL_SCHOOL, ACR_STAFF_2FA
from tests.sso.conftest import (
    SCHOOL_IP,
    authorize,
    code_from,
    pkce_pair,
    redeem,
    sign_in_at,
    sign_in_pupil,
    userinfo,
)
from tests.sso.test_flow import verified_claims


def _query(response) -> dict[str, str]:
    assert response.status_code == 302, response.content[:300]
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _sign_in_teacher(client: Client, world, methods=("pwd", "otp"), seconds_ago: int = 0):
    client.force_login(world.teacher.user)
    session = client.session
    session[auth_methods.SESSION_KEY] = list(methods)
    session[auth_methods.AUTH_TIME_KEY] = int(time.time()) - seconds_ago
    session.save()
    return client


def _record(client: Client, methods: list[str]) -> None:
    session = client.session
    session[auth_methods.SESSION_KEY] = methods
    session[auth_methods.AUTH_TIME_KEY] = int(time.time())
    session.save()


# --- RFC 9207: iss on every authorization response ---------------------------------------------

def test_an_error_sent_back_to_the_publisher_names_the_issuer(pupil_client, world):
    response = authorize(pupil_client, world.a, challenge=None, method=None)
    query = _query(response)
    assert query["error"] == "invalid_request"
    assert query["iss"] == settings.OIDC_ISSUER


def test_prompt_none_without_a_session_answers_login_required_with_iss(client, world):
    _verifier, challenge = pkce_pair()
    query = _query(authorize(client, world.a, challenge=challenge, prompt="none"))
    assert query == {"error": "login_required", "state": "st4te", "iss": settings.OIDC_ISSUER}


def test_prompt_none_refused_by_the_rules_answers_access_denied_with_iss(pupil_client, world):
    PublisherConsent.objects.filter(publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())
    _verifier, challenge = pkce_pair()
    query = _query(authorize(pupil_client, world.a, challenge=challenge, prompt="none"))
    assert query["error"] == "access_denied"
    assert query["iss"] == settings.OIDC_ISSUER
    assert query["state"] == "st4te"


def test_discovery_says_what_a_strict_client_relies_on(client, world):
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["authorization_response_iss_parameter_supported"] is True
    assert data["revocation_endpoint"] == f"{settings.SITE_URL}/o/revoke_token/"
    assert data["grant_types_supported"] == ["authorization_code"]
    assert "device_authorization_endpoint" not in data
    assert {"acr", "amr", "auth_time", "sub", "role"} <= set(data["claims_supported"])
    assert ACR_STAFF_2FA in data["acr_values_supported"]
    assert data["prompt_values_supported"] == ["none", "login"]


# --- amr and acr --------------------------------------------------------------------------------

def test_a_teacher_after_the_code_step_gets_amr_pwd_otp_and_acr_staff_2fa(client, world):
    _sign_in_teacher(client, world, seconds_ago=30)
    signed_in_at = client.session[auth_methods.AUTH_TIME_KEY]
    claims = verified_claims(sign_in_at(client, world.a)["id_token"])
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == ACR_STAFF_2FA
    assert claims["auth_time"] == signed_in_at


def test_a_pupil_with_pictures_at_school_and_a_pincode_at_home(client, world):
    sign_in_pupil(client, world.pupil)
    _record(client, ["pictures"])
    claims = verified_claims(sign_in_at(client, world.a)["id_token"])
    assert (claims["amr"], claims["acr"]) == (["pictures"], ACR_PUPIL_SCHOOL)

    world.school.home_signin_enabled = True
    world.school.save()
    home = sign_in_pupil(Client(), world.pupil, kind=AT_HOME)
    _record(home, ["pin"])
    claims = verified_claims(sign_in_at(home, world.a, ip="198.51.100.7")["id_token"])
    assert (claims["amr"], claims["acr"]) == (["pin"], ACR_PUPIL_HOME)


def test_a_session_that_recorded_no_method_gets_acr_0_and_no_amr(pupil_client, world):
    claims = verified_claims(sign_in_at(pupil_client, world.a)["id_token"])
    assert claims["acr"] == "0"
    assert "amr" not in claims


# --- prompt=login and max_age: the previous user never passes silently -------------------------

def test_prompt_login_signs_the_previous_teacher_out_and_comes_back_without_it(client, world):
    _sign_in_teacher(client, world)
    _verifier, challenge = pkce_pair()
    response = authorize(client, world.a, challenge=challenge, prompt="login")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/inloggen/"
    back = parse_qs(urlsplit(parse_qs(location.query)["next"][0]).query)
    assert "prompt" not in back and back["client_id"] == [world.a.client.client_id]
    assert "_auth_user_id" not in client.session  # the teacher is signed out


def test_prompt_login_sends_a_pupil_back_to_the_school_pupil_page(pupil_client, world):
    _verifier, challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=challenge, prompt="login")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/leerling/{world.school.pupil_page_ref}/?next={world.a.product.pk}")
    assert "_auth_user_id" not in pupil_client.session


def test_max_age_signs_in_again_only_when_the_sign_in_is_older(client, world):
    _sign_in_teacher(client, world, seconds_ago=7200)
    _verifier, challenge = pkce_pair()
    response = authorize(client, world.a, challenge=challenge, max_age="3600")
    assert urlsplit(response["Location"]).path == "/accounts/inloggen/"
    assert "_auth_user_id" not in client.session

    _sign_in_teacher(client, world, seconds_ago=60)
    assert "code" in _query(authorize(client, world.a, challenge=challenge, max_age="3600"))


def test_max_age_with_prompt_none_answers_login_required(client, world):
    _sign_in_teacher(client, world, seconds_ago=7200)
    _verifier, challenge = pkce_pair()
    query = _query(authorize(client, world.a, challenge=challenge, max_age="60", prompt="none"))
    assert query["error"] == "login_required"
    assert query["iss"] == settings.OIDC_ISSUER


def test_a_max_age_that_is_not_a_number_is_no_500(pupil_client, world):
    _verifier, challenge = pkce_pair()
    assert "code" in _query(authorize(pupil_client, world.a, challenge=challenge,
                                      max_age="9" * 40 + "x"))


# --- token endpoint (RFC 6749 §5.2) -------------------------------------------------------------

def test_a_different_redirect_uri_at_the_token_endpoint_is_invalid_grant(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    response = redeem(world.a, code, verifier, redirect_uri=world.a.redirect_uri + "x")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_wrong_secret_by_basic_auth_gets_401_with_a_basic_challenge(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    basic = base64.b64encode(f"{world.a.client.client_id}:wrong".encode()).decode()
    response = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": world.a.redirect_uri}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic realm=")


def test_the_device_code_grant_is_not_served(client, world):
    for data in ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
                 {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                  "device_code": "abc", "client_id": world.a.client.client_id}):
        response = client.post("/o/token/", data)
        assert response.status_code in (400, 401), response.content
        assert response.json()["error"] in ("unsupported_grant_type", "invalid_client")
    assert client.post("/o/device-authorization/").status_code == 404


# --- userinfo (RFC 6750, RFC 9700) --------------------------------------------------------------

def test_userinfo_refuses_a_token_in_the_query_string_or_the_body(pupil_client, world):
    token = sign_in_at(pupil_client, world.a)["access_token"]
    for response in (Client().get("/o/userinfo/", {"access_token": token}),
                     Client().post("/o/userinfo/", {"access_token": token})):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert 'error="invalid_request"' in response["WWW-Authenticate"]
    assert userinfo(token).status_code == 200  # the header still works


def test_userinfo_refusals_say_why_in_www_authenticate(pupil_client, world):
    token = sign_in_at(pupil_client, world.a)["access_token"]
    response = userinfo("not-a-token")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]

    PublisherConsent.objects.filter(publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())
    response = userinfo(token)
    assert response.status_code == 403
    assert 'error="access_denied"' in response["WWW-Authenticate"]


# --- replay and revocation ----------------------------------------------------------------------

def test_a_replayed_code_revokes_the_tokens_issued_from_it(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    tokens = redeem(world.a, code, verifier).json()
    assert userinfo(tokens["access_token"]).status_code == 200
    assert redeem(world.a, code, verifier).json()["error"] == "invalid_grant"
    assert userinfo(tokens["access_token"]).status_code == 401
    assert not AccessToken.objects.exists()
    assert not IDToken.objects.exists()


def test_a_revoked_access_token_no_longer_opens_userinfo(pupil_client, world):
    token = sign_in_at(pupil_client, world.a)["access_token"]
    response = Client().post("/o/revoke_token/", {
        "token": token, "client_id": world.a.client.client_id,
        "client_secret": world.a.client.client_secret})
    assert response.status_code == 200
    assert userinfo(token).status_code == 401


def test_a_pupil_elsewhere_still_gets_no_code_with_prompt_login_undone(pupil_client, world):
    # prompt=login never skips the rules: from outside the school's network nothing is issued.
    _verifier, challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=challenge, ip="198.51.100.7")
    assert response.status_code == 403
    assert SCHOOL_IP != "198.51.100.7"
