"""Discovery, keys and their rotation, logout, and registering a client."""

from __future__ import annotations

import json
import stat
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken, Application

from klaspoort.sso import keys
from klaspoort.sso.services import register_client
from tests.licences.factories import PublisherFactory
from tests.sso.conftest import LOGOUT_A, sign_in_at


def test_discovery_document_says_what_klaspoort_accepts(db):
    response = Client().get("/o/.well-known/openid-configuration")
    assert response.status_code == 200
    data = response.json()
    issuer = settings.SITE_URL + "/o"
    assert data["issuer"] == issuer
    assert data["authorization_endpoint"] == issuer + "/authorize/"
    assert data["token_endpoint"] == issuer + "/token/"
    assert data["userinfo_endpoint"] == issuer + "/userinfo/"
    assert data["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert data["end_session_endpoint"] == issuer + "/logout/"
    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert data["subject_types_supported"] == ["pairwise"]
    assert set(data["scopes_supported"]) == {"openid", "profile", "klaspoort"}
    assert {"sub", "role", "brin6", "groups", "products"} <= set(data["claims_supported"])
    assert "email" not in data["claims_supported"]


def test_jwks_publishes_the_public_key_only(db):
    data = Client().get("/o/.well-known/jwks.json").json()
    (key,) = data["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert "d" not in key and "p" not in key  # no private parts


def _pem() -> str:
    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(
        private_key=True, password=None).decode()


def test_key_rotation_keeps_tokens_of_the_old_key_verifiable(pupil_client, world):
    old, new = _pem(), _pem()
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER,
                                            "OIDC_RSA_PRIVATE_KEY": old}):
        id_token = sign_in_at(pupil_client, world.a)["id_token"]
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER,
                                            "OIDC_RSA_PRIVATE_KEY": new,
                                            "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old]}):
        published = Client().get("/o/.well-known/jwks.json").content
        fresh = sign_in_at(pupil_client, world.a)["id_token"]
    key_set = jwk.JWKSet.from_json(published)
    assert len(json.loads(published)["keys"]) == 2
    for token in (id_token, fresh):
        assert json.loads(jwt.JWT(jwt=token, key=key_set, algs=["RS256"]).claims)["sub"]
    # Without the old key in the set, its tokens no longer verify.
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER,
                                            "OIDC_RSA_PRIVATE_KEY": new}):
        only_new = jwk.JWKSet.from_json(Client().get("/o/.well-known/jwks.json").content)
    with pytest.raises(Exception):  # noqa: B017 - jwcrypto raises its own types
        jwt.JWT(jwt=id_token, key=only_new, algs=["RS256"])


def test_the_embedded_key_is_made_once_and_private(tmp_path):
    first = keys.stored_signing_key(tmp_path)
    assert "PRIVATE KEY" in first
    assert keys.stored_signing_key(tmp_path) == first
    mode = (tmp_path / keys.KEY_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_keys_come_from_the_environment(tmp_path, monkeypatch):
    one, two = _pem(), _pem()
    monkeypatch.setenv("KLASPOORT_OIDC_PRIVATE_KEY", one)
    monkeypatch.setenv("KLASPOORT_OIDC_PRIVATE_KEYS_INACTIVE", two + "\n" + one)
    assert keys.signing_key(tmp_path) == one.strip() + "\n"
    assert keys.inactive_keys() == [two.strip() + "\n", one.strip() + "\n"]
    assert not (tmp_path / keys.KEY_FILE).exists()


def test_rp_initiated_logout(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    response = pupil_client.get("/o/logout/", {
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_A,
        "state": "bye"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LOGOUT_A
    assert parse_qs(location.query)["state"] == ["bye"]
    assert "_auth_user_id" not in pupil_client.session  # signed out of Klaspoort
    assert not AccessToken.objects.filter(user=world.pupil.user).exists()


def test_logout_to_an_unregistered_address_is_refused(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    response = pupil_client.get("/o/logout/", {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": "https://evil.example/uitgelogd"})
    assert response.status_code == 400
    assert "_auth_user_id" in pupil_client.session


def test_register_client_stores_the_secret_hashed(db):
    registered = register_client(PublisherFactory(), "Alfa", ["https://alfa.example/cb"])
    app = Application.objects.get(client_id=registered.client_id)
    assert registered.client_secret and app.client_secret != registered.client_secret
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert app.algorithm == Application.RS256_ALGORITHM
    assert app.skip_authorization


@pytest.mark.parametrize("uri", ["http://alfa.example/cb", "https://alfa.example/cb#x",
                                 "alfa.example/cb", "javascript:alert(1)"])
def test_register_client_refuses_unsafe_redirect_uris(db, uri):
    with pytest.raises(ValidationError):
        register_client(PublisherFactory(), "Alfa", [uri])
    assert not Application.objects.exists()


def test_register_client_allows_plain_http_on_localhost(db):
    registered = register_client(PublisherFactory(), "Demo", ["http://localhost:8100/cb"],
                                 confidential=False)
    assert registered.client_secret == ""


def test_logout_without_a_token_asks_first(pupil_client, world):
    page = pupil_client.get("/o/logout/")
    assert page.status_code == 200
    assert "_auth_user_id" in pupil_client.session
    response = pupil_client.post("/o/logout/", {"allow": "1"})
    assert response.status_code == 302
    assert "_auth_user_id" not in pupil_client.session


def test_client_secrets_are_stored_hashed_with_the_fast_secret_hasher_and_still_verify(db):
    from django.contrib.auth.hashers import check_password
    from oauth2_provider.models import Application

    from klaspoort.sso.services import register_client
    from tests.licences.factories import PublisherFactory

    registered = register_client(PublisherFactory(), "App", ["https://app.example/cb"])
    stored = Application.objects.get(client_id=registered.client_id).client_secret
    assert stored.startswith("klaspoort_client_secret$")
    assert registered.client_secret not in stored
    assert check_password(registered.client_secret, stored)
    assert not check_password(registered.client_secret + "x", stored)
