"""The authorization code flow end to end, as a publisher's software drives it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jws, jwt
from oauth2_provider.models import AccessToken

from klaspoort.pseudonyms import group_id_for
from tests.sso.conftest import (
    authorize,
    code_from,
    pkce_pair,
    redeem,
    sign_in_at,
    userinfo,
)


def verified_claims(id_token: str) -> dict:
    """The ID token's claims, verified against the published JWKS only."""
    keys = jwk.JWKSet.from_json(Client().get("/o/.well-known/jwks.json").content)
    token = jwt.JWT(jwt=id_token, key=keys, algs=["RS256"])
    return json.loads(token.claims)


def test_pupil_signs_in_and_the_publisher_gets_only_what_it_needs(pupil_client, world):
    verifier, challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=challenge)
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == world.a.redirect_uri
    assert query["state"] == ["st4te"]
    assert query["iss"] == [settings.OIDC_ISSUER]  # RFC 9207: the publisher can check who sent it

    tokens = redeem(world.a, query["code"][0], verifier).json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] <= 600
    assert "refresh_token" not in tokens

    claims = verified_claims(tokens["id_token"])
    assert claims["iss"] == settings.SITE_URL + "/o"
    assert claims["aud"] == world.a.client.client_id
    assert claims["nonce"] == "n0nce"
    assert len(claims["sub"]) == 64 and str(world.pupil.user.pk) != claims["sub"]
    assert claims["given_name"] == "Zoë"
    assert claims["family_name"] == "J."  # the initial: Alfa's agreement says so
    assert "Jong" not in json.dumps(claims)
    assert claims["role"] == "pupil"
    assert claims["brin6"] == "99ZZ00"
    assert len(claims["school_id"]) == 64
    # The group by the id Alfa's roster feed gives it (licences.publisher_view).
    assert claims["groups"] == [{"id": group_id_for(world.a.publisher.pk, world.group.pk),
                                 "name": "Groep 5a", "jaargroep": "5", "kind": "group"}]
    assert claims["products"] == [world.a.product.code]  # not Beta's product
    assert "email" not in claims
    assert "eckid" not in claims  # Alfa is no chain partner

    info = userinfo(tokens["access_token"])
    assert info.status_code == 200
    data = info.json()
    for name in ("sub", "given_name", "family_name", "role", "school_id", "brin6", "groups",
                 "products"):
        assert data[name] == claims[name]
    assert "email" not in data


def test_the_id_token_names_the_current_key(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    signed = jws.JWS()
    signed.deserialize(tokens["id_token"])
    header = signed.jose_header
    kids = [k["kid"] for k in Client().get("/o/.well-known/jwks.json").json()["keys"]]
    assert header["alg"] == "RS256"
    assert header["kid"] == kids[0]


def test_teacher_signs_in_from_anywhere_with_the_full_name_when_agreed(client, world):
    world.a.client.client.name_detail = "full"
    world.a.client.client.save()
    client.force_login(world.teacher.user)
    tokens = sign_in_at(client, world.a, ip="192.0.2.99")
    claims = userinfo(tokens["access_token"]).json()
    assert claims["role"] == "teacher"
    assert claims["given_name"] == "Marieke"
    assert claims["family_name"] == "Visser"
    assert claims["name"] == "Marieke Visser"
    # A teacher's e-mail address is an id every publisher would share: never sent.
    assert "email" not in claims and "visser@" not in json.dumps(claims)


def test_the_publisher_may_start_the_flow_itself_and_with_a_public_client(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.b)  # Beta: a public client, PKCE alone
    assert verified_claims(tokens["id_token"])["products"] == [world.b.product.code]


def test_pairwise_sub_differs_between_publishers_and_is_stable(pupil_client, world):
    first_a = verified_claims(sign_in_at(pupil_client, world.a)["id_token"])
    again_a = verified_claims(sign_in_at(pupil_client, world.a)["id_token"])
    at_b = verified_claims(sign_in_at(pupil_client, world.b)["id_token"])
    assert first_a["sub"] == again_a["sub"]
    assert first_a["school_id"] == again_a["school_id"]
    assert first_a["sub"] != at_b["sub"]
    assert first_a["school_id"] != at_b["school_id"]


def test_an_email_scope_is_not_offered(pupil_client, world):
    _verifier, challenge = pkce_pair()
    response = authorize(pupil_client, world.a, challenge=challenge, scope="openid email")
    assert "code=" not in response.get("Location", "")
    assert "invalid_scope" in response["Location"]


def test_the_access_token_is_short_lived(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    token = AccessToken.objects.get(application__client_id=world.a.client.client_id)
    lifetime = (token.expires - token.created).total_seconds()
    assert lifetime <= 600 + 1
    assert token.token == ""  # stored as a checksum only: a database leak yields no tokens
    assert tokens["expires_in"] <= 600


def test_the_eck_id_goes_only_to_a_chain_partner(pupil_client, world):
    assert "eckid" not in userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    world.a.client.client.chain_partner = True
    world.a.client.client.save()
    claims = userinfo(sign_in_at(pupil_client, world.a)["access_token"]).json()
    assert claims["eckid"] == world.pupil.eckid


def test_signing_in_requires_a_session(client, world):
    _verifier, challenge = pkce_pair()
    response = authorize(client, world.a, challenge=challenge)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/")
    assert "code=" not in response["Location"]


def test_the_code_is_delivered_only_to_the_registered_address(pupil_client, world):
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge))
    assert redeem(world.a, code, verifier, redirect_uri=world.a.redirect_uri + "x"
                  ).status_code == 400


def test_scope_without_klaspoort_gives_no_licence_claims(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a, scope="openid")
    claims = verified_claims(tokens["id_token"])
    assert set(claims) >= {"sub", "iss", "aud"}
    assert "products" not in claims and "given_name" not in claims
