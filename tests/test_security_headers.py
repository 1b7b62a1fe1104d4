"""Browser hardening (issue 10, finding 10): a strict Content-Security-Policy on every page, no
inline script anywhere, /api/docs from our own files, and no caching of signed-in pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from oauth2_provider.models import get_application_model

from klaspoort.schools.models import SchoolNetwork
from tests.browser_support import chromium_page, needs_chromium
from tests.factories import GroupFactory, PupilFactory, TeacherFactory, UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "klaspoort" / "templates"


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/thuis/", "/api/docs", "/leerling/nothing-here-at-all/"])
def test_every_page_has_a_strict_policy(client, url):
    policy = directives(client.get(url, follow=True))
    assert policy["default-src"] == "default-src 'self'"
    assert policy["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no CDN
    assert policy["style-src"] == "style-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["form-action"].startswith("form-action 'self'")


@pytest.mark.django_db
def test_forms_may_post_on_to_registered_publisher_addresses_only(client):
    get_application_model().objects.create(
        name="Uitgeverij Alfa", client_type="confidential",
        authorization_grant_type="authorization-code", algorithm="RS256",
        redirect_uris="https://alfa.example/callback https://login.alfa.example:8443/cb",
        post_logout_redirect_uris="https://alfa.example/bye")
    policy = directives(client.get("/thuis/"))["form-action"]
    assert policy == ("form-action 'self' https://alfa.example https://login.alfa.example:8443")


def test_no_template_carries_inline_script_or_style():
    """Behaviour lives in klaspoort/static/klaspoort/*.js and looks in the stylesheets. E-mails
    (read in a mail program) and the bookmarks file (downloaded, opened from disk) are no pages
    of the site."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        relative = path.relative_to(TEMPLATES).as_posix()
        if relative.startswith("accounts/email/") or relative.endswith("shortcuts_bookmarks.html"):
            continue
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"\sstyle\s*=",
                        r"<style", r"javascript:"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{relative}: {pattern}")
    assert offenders == []


@pytest.mark.django_db
def test_api_docs_load_swagger_from_klaspoort_not_a_cdn(client):
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page


@pytest.mark.django_db
def test_signed_in_pages_are_never_cached(client, school):
    SchoolNetwork.objects.create(school=school, network="145.10.20.0/24")
    group = GroupFactory(school=school)
    PupilFactory(school=school, group=group)
    teacher = TeacherFactory(school=school, user=UserFactory())
    teacher.groups.add(group)
    client.force_login(teacher.user)
    for url in (reverse("teacher:group", args=[group.pk]),
                reverse("teacher:print_cards", args=[group.pk]),
                reverse("signin:portal"), reverse("profile")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


# --- In a real browser -------------------------------------------------------------------------
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
@needs_chromium
def test_swagger_ui_renders_under_the_policy_from_our_own_server(live_server, transactional_db):
    violations: list[str] = []
    foreign: list[str] = []
    with chromium_page() as page:
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: foreign.append(r.url)
                if not r.url.startswith((live_server.url, "data:")) else None)
        page.goto(f"{live_server.url}/api/docs")
        page.wait_for_selector("#swagger-ui .information-container", timeout=20_000)
    assert violations == [] and foreign == []


@pytest.mark.browser
@needs_chromium
def test_a_confirm_question_still_guards_removing_an_address(live_server, transactional_db):
    from django.test import Client

    from tests.factories import CoordinatorFactory, SchoolFactory

    school = SchoolFactory()
    SchoolNetwork.objects.create(school=school, network="145.10.20.0/24")
    coordinator = CoordinatorFactory(school=school)
    django_client = Client()
    django_client.force_login(coordinator.user if hasattr(coordinator, "user") else coordinator)
    cookie = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    violations: list[str] = []
    asked: list[str] = []
    with chromium_page() as page:
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie,
                                   "url": live_server.url}])
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.goto(f"{live_server.url}{reverse('schools:networks', args=[school.brin6])}")
        page.locator("form[data-confirm] button").first.click()
        page.wait_for_timeout(500)
    assert asked and "145.10.20.0/24" in asked[0]
    assert SchoolNetwork.objects.filter(school=school).count() == 1  # cancelled: nothing removed
    assert violations == []
