"""Second factor for staff: enrolment, the code step, recovery codes, the school's rule."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort.audit.models import AuditEntry
from tests.factories import PASSWORD

SETUP = reverse("accounts:second_factor_setup")
CODE = reverse("accounts:second_factor_code")
LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = int(current_code(device))
    return f"{(right + 500000) % 1000000:06d}"


def beheer(school) -> str:
    return reverse("schools:data", kwargs={"brin6": school.brin6})


def enrol(client) -> list[str]:
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=page.wsgi_request.user, confirmed=False)
    response = client.post(SETUP, {"code": current_code(device)})
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


def sign_in(client, user):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD})


def test_enrolment_shows_qr_and_secret_and_confirms_with_a_real_code(coordinator_client,
                                                                      coordinator):
    page = coordinator_client.get(SETUP)
    content = page.content.decode()
    assert "<svg" in content
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    assert "issuer=Klaspoort" in device.config_url
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', content).group(1)
    assert len(secret.replace(" ", "")) >= 32

    response = coordinator_client.post(SETUP, {"code": current_code(device)})
    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=coordinator).count() == 10


def test_wrong_code_does_not_confirm(coordinator_client, coordinator):
    coordinator_client.get(SETUP)
    device = TOTPDevice.objects.get(user=coordinator)
    response = coordinator_client.post(SETUP, {"code": wrong_code(device)})
    assert response.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=coordinator).exists()


def test_user_with_device_must_show_code_before_beheer(client, coordinator, school):
    sign_in(client, coordinator)
    enrol(client)
    client.logout()

    response = sign_in(client, coordinator)
    assert response.status_code == 302
    assert response.url.startswith(CODE)
    blocked = client.get(beheer(school))
    assert blocked.status_code == 302 and blocked.url.startswith(CODE)
    assert client.get(reverse("schools:home")).url.startswith(CODE)

    device = TOTPDevice.objects.get(user=coordinator, confirmed=True)
    assert client.post(CODE, {"code": wrong_code(device)}).status_code == 400
    assert client.get(beheer(school)).status_code == 302

    # A fresh device secret: the enrolment code was already used and would be a replay.
    device.last_t = -1
    device.save()
    assert client.post(CODE, {"code": current_code(device)}).status_code == 302
    assert client.get(beheer(school)).status_code == 200


def test_password_alone_cannot_replace_the_app(client, coordinator):
    sign_in(client, coordinator)
    enrol(client)
    client.logout()
    sign_in(client, coordinator)
    response = client.get(SETUP)
    assert response.status_code == 302 and response.url.startswith(CODE)
    assert TOTPDevice.objects.filter(user=coordinator).count() == 1


def test_recovery_code_works_once(client, coordinator, school):
    sign_in(client, coordinator)
    codes = enrol(client)
    client.logout()

    sign_in(client, coordinator)
    assert client.post(CODE, {"code": codes[0].upper()}).status_code == 302
    assert client.get(beheer(school)).status_code == 200
    client.logout()

    sign_in(client, coordinator)
    assert client.post(CODE, {"code": codes[0]}).status_code == 400
    assert client.get(beheer(school)).status_code == 302
    assert StaticToken.objects.filter(device__user=coordinator).count() == 9


def test_school_rule_walks_staff_without_device_to_enrolment(client, coordinator, school):
    sign_in(client, coordinator)
    response = client.post(reverse("schools:second_factor_policy",
                                   kwargs={"brin6": school.brin6}),
                           {"require_second_factor": "on"})
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.require_second_factor
    entry = AuditEntry.objects.get(action="schools.second_factor.require")
    assert entry.school == school and entry.after == {"require_second_factor": True}
    client.logout()

    response = sign_in(client, coordinator)
    assert response.url.startswith(SETUP)
    blocked = client.get(beheer(school))
    assert blocked.status_code == 302 and blocked.url.startswith(SETUP)
    assert "verplicht tweestapsverificatie" in client.get(SETUP).content.decode()

    enrol(client)
    assert client.get(beheer(school)).status_code == 200


def test_without_rule_or_device_beheer_opens_directly(coordinator_client, school):
    assert coordinator_client.get(beheer(school)).status_code == 200


def test_a_coordinator_of_another_school_cannot_set_the_rule(client, school):
    from tests.factories import CoordinatorFactory, SchoolFactory
    from tests.roster.test_pages import beheer_patterns

    assert "schools:second_factor_policy" in {name for name, _ in beheer_patterns()}
    client.force_login(CoordinatorFactory(school=SchoolFactory()))
    response = client.post(reverse("schools:second_factor_policy",
                                   kwargs={"brin6": school.brin6}),
                           {"require_second_factor": "on"})
    assert response.status_code == 404
    school.refresh_from_db()
    assert not school.require_second_factor
