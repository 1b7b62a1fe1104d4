"""The token endpoint's rows (issue 17 made it read less back): the access token still points at
the ID token issued with it, and `app_authorized` still reaches whoever listens to it."""

from __future__ import annotations

import base64
import json

from oauth2_provider.models import AccessToken, IDToken
from oauth2_provider.signals import app_authorized

from klaspoort.sso.selectors import secret_digest
from tests.sso.conftest import sign_in_at


def _jti(id_token: str) -> str:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


def test_the_access_token_points_at_the_id_token_issued_with_it(pupil_client, world):
    tokens = sign_in_at(pupil_client, world.a)
    access = AccessToken.objects.get(token_checksum=secret_digest(tokens["access_token"]))
    assert access.id_token == IDToken.objects.get(jti=_jti(tokens["id_token"]))


def test_app_authorized_reaches_its_listeners_with_the_new_token(pupil_client, world):
    heard = []

    def listener(sender, request, token, **kwargs):
        heard.append(token)

    app_authorized.connect(listener)
    try:
        tokens = sign_in_at(pupil_client, world.a)
    finally:
        app_authorized.disconnect(listener)
    assert [t.token_checksum for t in heard] == [secret_digest(tokens["access_token"])]
