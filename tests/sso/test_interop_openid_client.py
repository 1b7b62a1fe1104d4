"""Interoperability (issue 10, finding 12): Klaspoort's provider as openid-client sees it.

openid-client (Node.js, certified by the OpenID Foundation; pinned in tests/sso/interop) is a
strict relying party other than the example app's Authlib: it drops an authorization answer
without `iss`, and verifies the ID token's signature, iss, aud, nonce and at_hash. The Node
script (tests/sso/interop/rp.mjs) builds the authorization URL and redeems the code; the
browser's part — a signed-in session following the URL — is done here with `requests`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone

from klaspoort import auth_methods
from klaspoort.licences.models import GroupLicence
from klaspoort.schools.models import PublisherConsent, SchoolNetwork
from klaspoort.signin.session import AT_SCHOOL, SIGNIN_KIND, SIGNIN_SCHOOL
from klaspoort.sso.selectors import ACR_PUPIL_SCHOOL, ACR_STAFF_2FA
from klaspoort.sso.services import register_client

INTEROP = Path(__file__).parent / "interop"
REDIRECT = "http://127.0.0.1:9/callback"  # never fetched: the test reads the redirect itself


def _node_ready() -> str | None:
    """Why the interop test cannot run here, or None."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "node and npm are not installed (apt-get install nodejs npm; .ci/run does)"
    if not (INTEROP / "node_modules" / "openid-client").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP,
                              capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            return f"npm ci in {INTEROP} failed: {done.stderr.decode()[-300:]}"
    return None


pytestmark = pytest.mark.skipif(bool(_node_ready()), reason=str(_node_ready()))


def _node(step: str, args: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["node", "rp.mjs", step, json.dumps(args)], cwd=INTEROP,
                          capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def rp(issuer: str, world: Any) -> dict[str, Any]:
    """Publisher A's software as an openid-client relying party at the live server."""
    # The live server's requests come from 127.0.0.1: that is the school's network here.
    SchoolNetwork.objects.create(school=world.school, network="127.0.0.1/32")
    registered = register_client(world.a.publisher, "Alfa (openid-client)", [REDIRECT])
    return {"issuer": issuer, "client_id": registered.client_id,
            "client_secret": registered.client_secret, "redirect_uri": REDIRECT}


def _browser(user: Any = None, **session: Any) -> requests.Session:
    """A browser; signed in as `user` (a session made by Django's test client) when given."""
    browser = requests.Session()
    if user is not None:
        django_client = Client()
        django_client.force_login(user)
        stored = django_client.session
        for key, value in session.items():
            stored[key] = value
        stored.save()
        browser.headers["Cookie"] = (f"{settings.SESSION_COOKIE_NAME}="
                                     f"{django_client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return browser


def _sign_in(rp: dict[str, Any], browser: requests.Session, prompt: str = "") -> dict[str, Any]:
    started = _node("start", {**rp, "prompt": prompt})
    response = browser.get(started["url"], allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:300]
    callback = response.headers["Location"]
    assert callback.startswith(REDIRECT), callback
    return _node("finish", {**rp, **started, "callback": callback})


def _pupil_session(world: Any) -> dict[str, Any]:
    return {SIGNIN_KIND: AT_SCHOOL, SIGNIN_SCHOOL: world.school.pk,
            auth_methods.SESSION_KEY: [auth_methods.PICTURES]}


def test_a_pupil_signs_in_at_a_strict_relying_party(rp, world):
    result = _sign_in(rp, _browser(world.pupil.user, **_pupil_session(world)))
    assert "error" not in result, result
    claims, info = result["claims"], result["userinfo"]
    assert claims["iss"] == rp["issuer"]
    assert claims["aud"] == rp["client_id"]
    assert (claims["amr"], claims["acr"]) == (["pictures"], ACR_PUPIL_SCHOOL)
    assert info["sub"] == claims["sub"]
    assert info["role"] == "pupil" and info["given_name"] == "Zoë"


def test_a_teacher_after_the_code_step_signs_in_at_a_strict_relying_party(rp, world):
    browser = _browser(world.teacher.user, **{
        auth_methods.SESSION_KEY: [auth_methods.PASSWORD, auth_methods.ONE_TIME_CODE]})
    result = _sign_in(rp, browser)
    assert "error" not in result, result
    assert (result["claims"]["amr"], result["claims"]["acr"]) == (["pwd", "otp"], ACR_STAFF_2FA)
    assert result["userinfo"]["role"] == "teacher"


def test_the_strict_relying_party_hears_login_required(rp, world):
    result = _sign_in(rp, _browser(), prompt="none")
    assert result["error"] == "login_required", result


def test_the_strict_relying_party_hears_access_denied_without_consent(rp, world):
    PublisherConsent.objects.filter(publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())
    result = _sign_in(rp, _browser(world.pupil.user, **_pupil_session(world)), prompt="none")
    assert result["error"] == "access_denied", result


def test_the_strict_relying_party_hears_access_denied_without_a_licence(rp, world):
    GroupLicence.objects.filter(contract=world.a.contract).delete()
    result = _sign_in(rp, _browser(world.pupil.user, **_pupil_session(world)), prompt="none")
    assert result["error"] == "access_denied", result
