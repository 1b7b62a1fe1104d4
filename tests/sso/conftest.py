"""A school with a pupil and a teacher licensed for publisher A's method, publisher A's
software registered as a client, and helpers that drive the OpenID Connect flow."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.test import Client
from django.utils import timezone

from klaspoort.licences.models import GroupLicence
from klaspoort.roster.models import TeacherGroup
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from klaspoort.signin.session import AT_SCHOOL, SIGNIN_KIND, SIGNIN_SCHOOL
from klaspoort.sso.services import Registered, register_client
from tests.factories import GroupFactory, PupilFactory, TeacherFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

SCHOOL_IP = "203.0.113.5"
ELSEWHERE_IP = "198.51.100.7"
REDIRECT_A = "https://methode-a.example/oidc/callback"
REDIRECT_B = "https://methode-b.example/oidc/callback"
LOGOUT_A = "https://methode-a.example/uitgelogd"
SCOPE = "openid profile klaspoort"


# Every authorization code the test's requests issued (codes live in the cache, not in a table
# a test could look at: decision 0041).
ISSUED_CODES: list[str] = []


@pytest.fixture(autouse=True)
def _issued_codes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from klaspoort.sso import services

    issue = services.issue_code
    ISSUED_CODES.clear()

    def noted(code: str, grant: Any) -> None:
        ISSUED_CODES.append(code)
        issue(code, grant)

    monkeypatch.setattr(services, "issue_code", noted)
    return ISSUED_CODES


def no_code_issued() -> bool:
    """Whether the test's requests issued no authorization code at all."""
    return not ISSUED_CODES


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Publisher:
    publisher: Any
    product: Any
    contract: Any
    client: Registered
    redirect_uri: str


@dataclass
class World:
    school: Any
    group: Any
    pupil: Any
    teacher: Any
    a: Publisher
    b: Publisher


def _publisher(school: Any, group: Any, name: str, redirect: str, **client_kwargs: Any
               ) -> Publisher:
    publisher = PublisherFactory(name=name)
    product = ProductFactory(publisher=publisher, launch_url=f"https://{publisher.slug}.example/start")
    contract = ContractFactory(product=product, school=school)
    GroupLicence.objects.create(contract=contract, group=group)
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    client = register_client(publisher, f"{name} software", [redirect], **client_kwargs)
    return Publisher(publisher, product, contract, client, redirect)


@pytest.fixture
def world(school: Any) -> World:
    SchoolNetwork.objects.create(school=school, network="203.0.113.0/24")
    group = GroupFactory(school=school, name="Groep 5a", jaargroep="5")
    pupil = PupilFactory(school=school, group=group, first_name="Zoë", prefix="de",
                         last_name="Jong", eckid="https://ketenid.nl/201703/" + "a" * 128)
    teacher = TeacherFactory(school=school, first_name="Marieke", last_name="Visser",
                             email="m.visser@regenboog.example")
    TeacherGroup.objects.create(teacher=teacher, group=group)
    a = _publisher(school, group, "Uitgeverij Alfa", REDIRECT_A,
                   post_logout_redirect_uris=[LOGOUT_A])
    b = _publisher(school, group, "Uitgeverij Beta", REDIRECT_B, confidential=False)
    return World(school, group, pupil, teacher, a, b)


def sign_in_pupil(client: Client, pupil: Any, kind: str = AT_SCHOOL) -> Client:
    client.force_login(pupil.user)
    session = client.session
    session[SIGNIN_KIND] = kind
    session[SIGNIN_SCHOOL] = pupil.school_id
    session.save()
    return client


@pytest.fixture
def pupil_client(client: Client, world: World) -> Client:
    return sign_in_pupil(client, world.pupil)


def authorize(client: Client, pub: Publisher, *, challenge: str | None = None,
              method: str | None = "S256", ip: str = SCHOOL_IP, **extra: str) -> Any:
    params: dict[str, str] = {
        "response_type": "code", "client_id": pub.client.client_id,
        "redirect_uri": pub.redirect_uri, "scope": SCOPE, "state": "st4te", "nonce": "n0nce",
    }
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    params.update(extra)
    return client.get("/o/authorize/", params, REMOTE_ADDR=ip)


def code_from(response: Any) -> str:
    assert response.status_code == 302, getattr(response, "content", b"")[:500]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert "code" in query, response["Location"]
    return query["code"][0]


def redeem(pub: Publisher, code: str, verifier: str, *, as_pub: Publisher | None = None,
           redirect_uri: str | None = None) -> Any:
    """The publisher's server redeems a code at the token endpoint (no browser session)."""
    who = as_pub or pub
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": redirect_uri or pub.redirect_uri, "client_id": who.client.client_id}
    if who.client.client_secret:
        data["client_secret"] = who.client.client_secret
    return Client().post("/o/token/", data)


def sign_in_at(client: Client, pub: Publisher, **kwargs: Any) -> dict[str, Any]:
    """The whole flow: authorize → code → token; returns the token response."""
    verifier, challenge = pkce_pair()
    code = code_from(authorize(client, pub, challenge=challenge, **kwargs))
    response = redeem(pub, code, verifier)
    assert response.status_code == 200, response.content
    tokens: dict[str, Any] = response.json()
    return tokens


def userinfo(access_token: str) -> Any:
    return Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def issuer(live_server: Any, settings: Any) -> str:
    """Klaspoort's issuer is its own address; the live server's differs from SITE_URL."""
    url = f"{live_server.url}/o"
    settings.SITE_URL = live_server.url
    settings.OIDC_ISSUER = url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    return url


@pytest.fixture
def example_server() -> Iterator[WSGIServer]:
    """The example publisher application's server on a free port (its app is set per test)."""
    server = make_server("127.0.0.1", 0, lambda environ, start: [], handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
