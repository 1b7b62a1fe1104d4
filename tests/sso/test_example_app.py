"""The whole flow against a real client: the example publisher application (examples/
publisher_app, Authlib + joserfc) beside Klaspoort, driven by a browser-like requests.Session.

tile (sso:launch) → example /login (third-party initiated) → /o/authorize → example /callback
(code → tokens, ID token checked against the JWKS, userinfo) → the welcome page with the claims.
"""

from __future__ import annotations

import importlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from examples.publisher_app import Config, make_app
from examples.publisher_app.app import Provider, SignInError, validate_id_token
from klaspoort.licences.models import GroupLicence
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory


def sso_pieces() -> Any:
    """The sso app's service, or a skip while that app is being built."""
    try:
        services = importlib.import_module("klaspoort.sso.services")
        session = importlib.import_module("klaspoort.signin.session")
        reverse("sso:launch", kwargs={"product_id": 1})
        reverse("oauth2_provider:authorize")
    except (ImportError, NoReverseMatch) as missing:
        pytest.skip(f"the sso app is not ready: {missing}")
    if not hasattr(services, "register_client"):
        pytest.skip("the sso app has no register_client service yet")
    return services, session


def as_browser(live_server: Any, user: Any, session_data: dict[str, Any]) -> requests.Session:
    """A browser holding the pupil's Klaspoort session cookie (as after the pupil sign-in)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session.update(session_data)
    session.save()
    browser = requests.Session()
    host = urlsplit(live_server.url).hostname
    # The standard library's cookie jar files a cookie of a dotless host under "<host>.local".
    browser.cookies.set(settings.SESSION_COOKIE_NAME, session.session_key,
                        domain=f"{host}.local" if "." not in host else host, path="/")
    return browser


def test_a_pupil_opens_a_method_at_the_example_publisher_application(
        live_server, issuer, example_server):
    services, signin_session = sso_pieces()
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    SchoolNetwork.objects.create(school=school, network="127.0.0.0/8")
    group = GroupFactory(school=school, name="Groep 5a", jaargroep="5")
    pupil = PupilFactory(school=school, group=group, first_name="Zoë", last_name="Jong")
    publisher = PublisherFactory(name="Uitgeverij Voorbeeld")
    product = ProductFactory(publisher=publisher, code="REKEN5", name="Rekenen 5",
                             launch_url=f"{app_url}/login")
    GroupLicence.objects.create(contract=ContractFactory(product=product, school=school),
                                group=group)
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    registered = services.register_client(publisher, "Voorbeeld", [f"{app_url}/callback"])
    example_server.set_app(make_app(Config(
        issuer=issuer, client_id=registered.client_id, client_secret=registered.client_secret,
        redirect_uri=f"{app_url}/callback", name="Uitgeverij Voorbeeld (demo)")))
    browser = as_browser(live_server, pupil.user, {
        signin_session.SIGNIN_KIND: signin_session.AT_SCHOOL,
        signin_session.SIGNIN_SCHOOL: school.pk})

    response = browser.get(live_server.url + reverse("sso:launch",
                                                     kwargs={"product_id": product.pk}),
                           timeout=30)

    steps = [urlsplit(r.url) for r in response.history]
    assert [(s.netloc, s.path) for s in steps] == [
        (urlsplit(live_server.url).netloc, f"/lesmateriaal/open/{product.pk}/"),
        (urlsplit(app_url).netloc, "/login"),
        (urlsplit(live_server.url).netloc, "/o/authorize/"),
        (urlsplit(app_url).netloc, "/callback"),
    ]
    launch = parse_qs(steps[1].query)
    assert launch["iss"] == [issuer]
    authorize = parse_qs(steps[2].query)
    assert authorize["code_challenge_method"] == ["S256"]
    assert authorize["login_hint"] == launch["login_hint"]
    assert {"state", "nonce", "code_challenge"} <= set(authorize)
    assert response.status_code == 200, response.text
    assert response.url == f"{app_url}/"
    assert "Welkom bij Uitgeverij Voorbeeld (demo)" in response.text
    assert '<strong class="given-name">Zoë</strong>' in response.text
    assert "<code>REKEN5</code>" in response.text
    assert "leerling" in response.text
    assert "Jong" not in response.text  # only the initial of the family name

    # The code cannot be used a second time: replaying the callback is refused.
    replay = browser.get(response.history[-1].url, timeout=30)
    assert replay.status_code == 400
    assert "Deze inlogpoging is verlopen of onbekend" in replay.text


def test_the_example_refuses_a_login_started_by_another_issuer(example_server):
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    example_server.set_app(make_app(Config(issuer="https://klaspoort.example/o",
                                           redirect_uri=f"{app_url}/callback")))

    response = requests.get(f"{app_url}/login", params={"iss": "https://evil.example/o"},
                            allow_redirects=False, timeout=10)

    assert response.status_code == 400
    assert "Onbekende inlogdienst" in response.text


def test_the_example_refuses_a_callback_it_did_not_start(example_server):
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    example_server.set_app(make_app(Config(issuer="https://klaspoort.example/o",
                                           redirect_uri=f"{app_url}/callback")))

    response = requests.get(f"{app_url}/callback", params={"code": "x", "state": "forged"},
                            timeout=10)

    assert response.status_code == 400
    assert "Deze inlogpoging is verlopen of onbekend" in response.text


# ---------------------------------------------------------------------------------------------
# The example's ID token checks, without a provider: a token that fails any check is refused
# ---------------------------------------------------------------------------------------------
class _Provider(Provider):
    def __init__(self, keys: KeySet, *, rotated: KeySet | None = None) -> None:
        super().__init__("https://klaspoort.example/o")
        self._keys_now, self._rotated = keys, rotated

    def keys(self, *, refresh: bool = False) -> KeySet:
        return self._rotated if refresh and self._rotated else self._keys_now


def _token(key: RSAKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": "https://klaspoort.example/o", "aud": "client-a", "sub": "s" * 64,
              "nonce": "n0nce", "iat": now, "exp": now + 600, **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@pytest.fixture
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


EXAMPLE = Config(issuer="https://klaspoort.example/o", client_id="client-a")


def test_the_example_accepts_a_valid_id_token(rsa_key):
    claims = validate_id_token(_token(rsa_key), _Provider(KeySet([rsa_key])), EXAMPLE, "n0nce")
    assert claims["sub"] == "s" * 64


def test_the_example_fetches_the_keys_again_for_a_rotated_key(rsa_key):
    new_key = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    provider = _Provider(KeySet([rsa_key]), rotated=KeySet([rsa_key, new_key]))
    assert validate_id_token(_token(new_key), provider, EXAMPLE, "n0nce")["aud"] == "client-a"


@pytest.mark.parametrize("changes", [
    {"iss": "https://evil.example/o"},
    {"aud": "client-b"},
    {"nonce": "other"},
    {"nonce": None},
    {"exp": int(time.time()) - 3600},
    {"aud": ["client-a", "client-b"]},  # several audiences and no azp naming us
])
def test_the_example_refuses_an_id_token_that_fails_a_check(rsa_key, changes):
    with pytest.raises(SignInError):
        validate_id_token(_token(rsa_key, **changes), _Provider(KeySet([rsa_key])), EXAMPLE,
                          "n0nce")


def test_the_example_refuses_an_id_token_signed_by_another_key(rsa_key):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(SignInError):
        validate_id_token(_token(stranger), _Provider(KeySet([rsa_key])), EXAMPLE, "n0nce")


def licensed_example_app(live_server: Any, issuer: str, example_server: Any, school: Any,
                         groups: list[Any]) -> Any:
    """Uitgeverij Voorbeeld, ticked by the school, with a running licence of its product REKEN5
    for each of `groups`, registered as the example application's client and reading the API
    with its own token; the product (its tile opens the example application)."""
    from klaspoort.exchange.models import PublisherApiToken

    services, _signin_session = sso_pieces()
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    publisher = PublisherFactory(name="Uitgeverij Voorbeeld")
    product = ProductFactory(publisher=publisher, code="REKEN5", launch_url=f"{app_url}/login")
    for group in groups:
        GroupLicence.objects.create(contract=ContractFactory(product=product, school=school),
                                    group=group)
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    registered = services.register_client(publisher, "Voorbeeld", [f"{app_url}/callback"])
    _row, token = PublisherApiToken.issue(publisher, "roster")
    example_server.set_app(make_app(Config(
        issuer=issuer, client_id=registered.client_id, client_secret=registered.client_secret,
        redirect_uri=f"{app_url}/callback", name="Uitgeverij Voorbeeld (demo)",
        api_url=f"{live_server.url}/api/publisher/v1", api_token=token)))
    return product


def test_a_teacher_sees_her_group_at_the_publisher_before_any_pupil_signed_in(
        live_server, issuer, example_server):
    """The example keeps its own copy of the roster with the documented feed (examples/
    publisher_app/roster.py): the teacher's group and its pupils are there at her first
    sign-in, though no pupil ever signed in at the publisher."""
    from klaspoort.roster.models import TeacherGroup
    from tests.factories import TeacherFactory

    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    group = GroupFactory(school=school, name="Groep 5a", jaargroep="5")
    other = GroupFactory(school=school, name="Groep 6b", jaargroep="6")
    for first, last in (("Zoë", "Jong"), ("Daan", "Bakker")):
        PupilFactory(school=school, group=group, first_name=first, last_name=last)
    PupilFactory(school=school, group=other, first_name="Sem", last_name="Smit")
    teacher = TeacherFactory(school=school, first_name="Marieke", last_name="Visser")
    TeacherGroup.objects.create(teacher=teacher, group=group)
    product = licensed_example_app(live_server, issuer, example_server, school, [group])
    browser = as_browser(live_server, teacher.user, {})

    response = browser.get(live_server.url + reverse("sso:launch",
                                                     kwargs={"product_id": product.pk}),
                           timeout=30)

    assert response.status_code == 200, response.text
    assert "leerkracht" in response.text
    pupils = response.text.split('<ul class="pupils">', 1)[1].split("</ul>", 1)[0]
    # Each name is followed by its Resultaat versturen button (tests/sso/test_example_app_results).
    assert "<li>Daan B.<form" in pupils and "<li>Zoë J.<form" in pupils
    assert "Sem" not in response.text  # group 6b has no licence of this publisher
