"""A tile opens the publisher's login address (initiate login URI) when its client has one."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from klaspoort.sso.models import PublisherClient
from tests.sso.conftest import SCHOOL_IP, authorize, code_from, pkce_pair, redeem

LOGIN = "https://methode-a.example/oidc/login?bron=klaspoort"


def launch(pupil_client, world):
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302
    parts = urlsplit(response["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def test_the_tile_goes_to_the_clients_login_address(pupil_client, world):
    PublisherClient.objects.filter(pk=world.a.client.client.pk).update(initiate_login_uri=LOGIN)
    address, query = launch(pupil_client, world)
    assert address == "https://methode-a.example/oidc/login"
    assert query["bron"] == ["klaspoort"]  # the publisher's own parameters stay
    assert query["iss"] == [settings.OIDC_ISSUER]
    assert query["target_link_uri"] == [world.a.product.launch_url]
    # The hint still signs this pupil in at the publisher.
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge,
                               login_hint=query["login_hint"][0]))
    assert redeem(world.a, code, verifier).status_code == 200


def test_the_login_address_with_the_clients_default_target(pupil_client, world):
    PublisherClient.objects.filter(pk=world.a.client.client.pk).update(
        initiate_login_uri=LOGIN, default_target_uri="https://methode-a.example/home")
    address, query = launch(pupil_client, world)
    assert address == "https://methode-a.example/oidc/login"
    assert query["target_link_uri"] == ["https://methode-a.example/home"]


def test_without_a_login_address_the_tile_goes_to_the_launch_address_as_before(pupil_client,
                                                                              world):
    address, query = launch(pupil_client, world)
    assert address == world.a.product.launch_url
    assert query["target_link_uri"] == [world.a.product.launch_url]


def test_a_switched_off_clients_login_address_is_not_used(pupil_client, world):
    PublisherClient.objects.filter(pk=world.a.client.client.pk).update(
        initiate_login_uri=LOGIN, disabled_at=timezone.now())
    address, _query = launch(pupil_client, world)
    assert address == world.a.product.launch_url
