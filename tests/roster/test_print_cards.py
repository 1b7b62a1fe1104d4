"""*Printversie*: one card per pupil of the group, printable on A4."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from klaspoort.roster import secrets
from tests.browser_support import chromium_page, needs_chromium, screenshot
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory, SchoolFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

NAMES = ["Anouk", "Bram", "Chaima", "Daan", "Emma", "Finn", "Guus", "Hiba", "Ilse"]


def make_group(school, jaargroep: str, method: str, names: list[str]):
    group = GroupFactory(school=school, jaargroep=jaargroep, name=f"Groep {jaargroep}")
    pupils = []
    for name in names:
        pupil = PupilFactory(school=school, group=group, first_name=name, jaargroep=jaargroep)
        pupil.signin_secret = secrets.encrypt(secrets.new_secret(method))
        pupil.save()
        pupils.append(pupil)
    return group, pupils


def print_url(group) -> str:
    return reverse("signin:print_cards", kwargs={"brin6": group.school.brin6,
                                                  "group_id": group.pk})


def test_print_cards_shows_every_pupil_of_the_group_and_only_them(coordinator_client, school):
    group, pupils = make_group(school, "6", secrets.PINCODE, NAMES[:4])
    _other, others = make_group(school, "7", secrets.PINCODE, ["Zara"])
    PupilFactory(school=school, group=group, first_name="Vertrokken", active=False)
    page = coordinator_client.get(print_url(group)).content.decode()
    assert page.count('class="pupil-card"') == 4
    for pupil in pupils:
        assert pupil.full_name in page
        assert secrets.reveal(pupil.signin_secret).code in page
    assert others[0].full_name not in page and "Vertrokken" not in page
    assert f"/leerling/{school.pupil_page_ref}/" in page
    assert 'class="tabs"' not in page  # no navigation on the printed page


def test_print_cards_of_a_picture_group_shows_the_pictures(coordinator_client, school):
    group, (pupil,) = make_group(school, "2", secrets.PICTURES, ["Noor"])
    page = coordinator_client.get(print_url(group)).content.decode()
    for _name, label in secrets.reveal(pupil.signin_secret).pictures:
        assert f'aria-label="{label}"' in page
    assert page.count('<svg class="picture"') == 2


def test_a_cluster_has_no_print_cards(coordinator_client, school):
    cluster = GroupFactory(school=school, kind="cluster", jaargroep="")
    assert coordinator_client.get(print_url(cluster)).status_code == 404


@pytest.mark.browser
@needs_chromium
def test_the_cards_print_on_a4_without_splitting(live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    coordinator = CoordinatorFactory(school=school)
    group, pupils = make_group(school, "2", secrets.PICTURES, NAMES)
    pincode_group, _pincode_pupils = make_group(school, "6", secrets.PINCODE, NAMES[:3])
    with chromium_page() as page:
        page.context.add_cookies([_session_cookie(coordinator, live_server.url)])
        page.goto(live_server.url + print_url(group))
        page.emulate_media(media="print")
        cards = page.locator(".pupil-card")
        expect(cards).to_have_count(len(NAMES))
        expect(cards.first.locator("svg.picture")).to_have_count(2)
        for pupil in pupils:
            expect(page.get_by_role("heading", name=pupil.full_name)).to_be_visible()
        screenshot(page, "printversie")
        assert page.pdf(format="A4", print_background=True).startswith(b"%PDF")
        assert cards.first.evaluate("c => getComputedStyle(c).breakInside") == "avoid"
        expect(page.get_by_role("navigation")).to_have_count(0)
        page.goto(live_server.url + print_url(pincode_group))
        expect(page.locator(".secret--code")).to_have_count(3)
        screenshot(page, "printversie-pincode")


def _session_cookie(user, url: str) -> dict:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": url}
