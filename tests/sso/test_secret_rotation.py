"""A new client secret with overlap: the previous secret keeps working at the token endpoint
for the overlap, then stops; the publisher may stop it early. Real token requests."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import quote_plus

from django.test import Client
from django.utils import timezone

from klaspoort.audit.models import AuditEntry
from klaspoort.sso import services
from klaspoort.sso.models import PublisherClient
from tests.sso.conftest import authorize, code_from, pkce_pair


def token_request(pupil_client, pub, secret: str, *, basic: bool = False):
    """The publisher's server redeems a fresh code with `secret` (in the body or Basic)."""
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, pub, challenge=challenge))
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": pub.redirect_uri}
    client_id = pub.client.client_id
    if basic:
        pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
        return Client().post("/o/token/", data,
                             HTTP_AUTHORIZATION=f"Basic {base64.b64encode(pair).decode()}")
    return Client().post("/o/token/", {**data, "client_id": client_id, "client_secret": secret})


def test_the_old_secret_works_during_the_overlap_then_stops(pupil_client, world, settings):
    settings.KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS = 7
    old = world.a.client.client_secret
    new = services.rotate_secret(world.a.client.client, actor=None)
    assert new and new != old

    for basic in (False, True):
        assert token_request(pupil_client, world.a, old, basic=basic).status_code == 200
        assert token_request(pupil_client, world.a, new, basic=basic).status_code == 200
        assert token_request(pupil_client, world.a, old + "x", basic=basic).status_code == 401

    row = PublisherClient.objects.get(pk=world.a.client.client.pk)
    expected = timezone.now() + datetime.timedelta(days=7)
    assert abs((row.previous_secret_expires_at - expected).total_seconds()) < 60
    assert old not in row.previous_secret  # kept hashed, as the toolkit keeps the current one

    # The overlap has ended: only the new secret opens the token endpoint.
    PublisherClient.objects.filter(pk=row.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    refused = token_request(pupil_client, world.a, old)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert token_request(pupil_client, world.a, old, basic=True).status_code == 401
    assert token_request(pupil_client, world.a, new).status_code == 200


def test_the_overlap_follows_the_setting(pupil_client, world, settings):
    settings.KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS = 0
    old = world.a.client.client_secret
    new = services.rotate_secret(world.a.client.client, actor=None)
    assert token_request(pupil_client, world.a, old).status_code == 401
    assert token_request(pupil_client, world.a, new).status_code == 200


def test_the_publisher_can_end_the_overlap_early(pupil_client, world):
    old = world.a.client.client_secret
    new = services.rotate_secret(world.a.client.client, actor=None)
    assert token_request(pupil_client, world.a, old).status_code == 200
    assert services.end_overlap(world.a.client.client, actor=None) is True
    assert token_request(pupil_client, world.a, old).status_code == 401
    assert token_request(pupil_client, world.a, new).status_code == 200
    assert services.end_overlap(world.a.client.client, actor=None) is False  # nothing left


def test_a_second_rotation_stops_the_oldest_secret_at_once(pupil_client, world):
    first = world.a.client.client_secret
    second = services.rotate_secret(world.a.client.client, actor=None)
    third = services.rotate_secret(world.a.client.client, actor=None)
    assert token_request(pupil_client, world.a, first).status_code == 401
    assert token_request(pupil_client, world.a, second).status_code == 200
    assert token_request(pupil_client, world.a, third).status_code == 200


def test_the_previous_secret_of_one_client_does_not_open_another(pupil_client, world):
    old = world.a.client.client_secret
    services.rotate_secret(world.a.client.client, actor=None)
    other = services.register_client(world.a.publisher, "Alfa tweede",
                                      ["https://methode-a.example/tweede/cb"])
    data = {"grant_type": "authorization_code", "code": "nothing", "code_verifier": "x" * 43,
            "redirect_uri": "https://methode-a.example/tweede/cb",
            "client_id": other.client_id, "client_secret": old}
    assert Client().post("/o/token/", data).status_code == 401


def test_rotation_is_audited_without_a_secret(world):
    old = world.a.client.client_secret
    new = services.rotate_secret(world.a.client.client, actor=None)
    services.end_overlap(world.a.client.client, actor=None)
    entries = AuditEntry.objects.filter(action__startswith="sso.secret.")
    assert sorted(e.action for e in entries) == ["sso.secret.end_overlap", "sso.secret.rotate"]
    for entry in AuditEntry.objects.all():
        text = f"{entry.target} {entry.before} {entry.after}"
        assert old not in text and new not in text
        assert "klaspoort_client_secret$" not in text


def test_an_unhashed_secret_overlaps_too_and_is_kept_hashed(pupil_client, world):
    from oauth2_provider.models import Application

    Application.objects.filter(client_id=world.a.client.client_id).update(
        client_secret="oud-en-ongehasht", hash_client_secret=False)
    new = services.rotate_secret(world.a.client.client, actor=None)
    row = PublisherClient.objects.get(pk=world.a.client.client.pk)
    assert "oud-en-ongehasht" not in row.previous_secret
    assert token_request(pupil_client, world.a, "oud-en-ongehasht").status_code == 200
    assert token_request(pupil_client, world.a, new).status_code == 200
