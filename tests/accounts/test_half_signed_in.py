"""Issue 10, findings 1 and 2: a staff session that passed only the password reaches nothing but
the rest of sign-in; the operator admin opens only through the staff sign-in and its code step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort import auth_methods
from klaspoort.accounts.middleware import ALLOWED_VIEWS
from tests.factories import PASSWORD, CoordinatorFactory, PupilFactory, TeacherFactory, UserFactory

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:second_factor_code")
SETUP = reverse("accounts:second_factor_setup")
ADMIN = reverse("admin:index")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def with_app(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def password_only(client: Any, user: Any) -> Any:
    """Sign in through the staff sign-in page with the password, and stop there."""
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD})


def with_code(client: Any, user: Any, device: TOTPDevice) -> Any:
    password_only(client, user)
    return client.post(CODE, {"code": current_code(device)})


# ---------------------------------------------------------------------------------------------
# Every URL, found by walking the URL configuration
# ---------------------------------------------------------------------------------------------
def all_patterns() -> Iterator[tuple[str, list[str]]]:
    """(view name, URL parameter names) of every page in the URL configuration."""

    def walk(patterns: list[Any], namespace: str, params: list[str]) -> Iterator[Any]:
        for entry in patterns:
            found = [*params, *entry.pattern.regex.groupindex]
            if isinstance(entry, URLResolver):
                inner = entry.namespace or namespace
                yield from walk(entry.url_patterns,
                                f"{namespace}:{entry.namespace}" if namespace
                                and entry.namespace else inner, found)
            elif isinstance(entry, URLPattern) and entry.name:
                yield (f"{namespace}:{entry.name}" if namespace else entry.name), found

    yield from walk(get_resolver().url_patterns, "", [])


def every_url(school: Any) -> list[tuple[str, str]]:
    values = {"brin6": school.brin6, "app_label": "accounts", "uuid": str(uuid.uuid4())}
    urls = []
    for name, params in all_patterns():
        kwargs = {p: values.get(p, "1") for p in params}
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


def test_the_walk_finds_the_pages_a_half_signed_in_teacher_reached():
    names = {name for name, _params in all_patterns()}
    assert {"signin:portal", "sso:launch", "oauth2_provider:authorize", "profile",
            "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_password_only_session_is_sent_to_the_code_step_from_every_page(client, school,
                                                                          method):
    teacher = CoordinatorFactory(school=school, is_staff=True)
    TeacherFactory(school=school, user=teacher)
    with_app(teacher)
    assert password_only(client, teacher)["Location"].startswith(CODE)
    for name, address in every_url(school):
        if name in ("accounts:logout", "accounts:sign_out_everywhere"):
            continue  # sign-out works (test below); here the session must stay half signed in
        response = getattr(client, method)(address)
        location = response.get("Location", "")
        if name == "accounts:second_factor_setup":
            continue  # reachable; by its own rule it sends the owner of an app to the code
        if name in ALLOWED_VIEWS:
            assert not location.startswith(CODE), (name, address)
        else:
            assert response.status_code == 302, (name, address, response.status_code)
            assert location.startswith(f"{CODE}?next="), (name, address, location)
    # Still half signed in: nothing above signed the code step off.
    assert client.get(reverse("signin:portal"))["Location"].startswith(CODE)


@pytest.mark.django_db
def test_after_the_code_the_pages_open_and_the_methods_are_recorded(client, school):
    teacher = CoordinatorFactory(school=school)
    device = with_app(teacher)
    password_only(client, teacher)
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.PASSWORD]
    assert client.get(reverse("profile"))["Location"].startswith(CODE)
    response = client.post(f"{CODE}?next=/accounts/profiel/", {"code": current_code(device)})
    assert response["Location"] == "/accounts/profiel/"
    assert client.get(reverse("profile")).status_code == 200
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.PASSWORD,
                                                         auth_methods.ONE_TIME_CODE]


@pytest.mark.django_db
def test_where_the_school_requires_a_second_factor_the_session_reaches_only_enrolment(client,
                                                                                     school):
    school.require_second_factor = True
    school.save()
    teacher = CoordinatorFactory(school=school)
    assert password_only(client, teacher)["Location"].startswith(SETUP)
    for page in (reverse("profile"), reverse("signin:portal"),
                 reverse("oauth2_provider:authorize")):
        assert client.get(page)["Location"].startswith(f"{SETUP}?next="), page
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user=teacher, confirmed=False)
    assert client.post(SETUP, {"code": current_code(device)}).status_code == 200
    assert client.get(reverse("profile")).status_code == 200
    assert client.session[auth_methods.SESSION_KEY] == [auth_methods.PASSWORD,
                                                         auth_methods.ONE_TIME_CODE]


@pytest.mark.django_db
def test_staff_without_a_second_factor_or_rule_are_not_stopped(client, school):
    teacher = CoordinatorFactory(school=school)
    assert not password_only(client, teacher)["Location"].startswith((CODE, SETUP))
    assert client.get(reverse("profile")).status_code == 200


@pytest.mark.django_db
def test_pupils_are_never_sent_to_a_code_step(client, school):
    pupil = PupilFactory(school=school)
    client.force_login(pupil.user)
    response = client.get(reverse("signin:portal"))
    assert response.status_code == 200


@pytest.mark.django_db
def test_sign_out_and_the_code_step_stay_reachable(client, school):
    teacher = CoordinatorFactory(school=school)
    with_app(teacher)
    password_only(client, teacher)
    assert client.get(CODE).status_code == 200
    assert client.post(reverse("accounts:logout"))["Location"] != CODE
    assert "_auth_user_id" not in client.session


# ---------------------------------------------------------------------------------------------
# The operator admin
# ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_password_only_operator_session_gets_no_admin_page(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    with_app(operator)
    password_only(client, operator)
    for page in (ADMIN, reverse("admin:accounts_user_changelist")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(CODE)


@pytest.mark.django_db
def test_the_admins_own_login_form_signs_nobody_in(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    with_app(operator)
    response = client.post(reverse("admin:login"),
                           {"username": operator.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN)["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_the_admin_sends_visitors_to_the_staff_sign_in_and_back(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    device = with_app(operator)
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=%2Foperator%2F"
    response = client.post(f"{LOGIN}?next=/operator/",
                           {"username": operator.email, "password": PASSWORD,
                            "next": "/operator/"})
    assert response["Location"].startswith(CODE)
    response = client.post(response["Location"], {"code": current_code(device)})
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


@pytest.mark.django_db
def test_an_operator_without_a_second_factor_must_set_one_up(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    assert password_only(client, operator)["Location"].startswith(SETUP)
    assert client.get(ADMIN)["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert "Als beheerder van het platform" in page.content.decode()
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    client.post(SETUP, {"code": current_code(device)})
    assert client.get(ADMIN).status_code == 200


@pytest.mark.django_db
def test_a_verified_staff_member_who_is_no_operator_is_refused(client, school):
    teacher = CoordinatorFactory(school=school)
    device = with_app(teacher)
    with_code(client, teacher, device)
    response = client.get(ADMIN, follow=True)
    assert response.status_code == 403
