"""Pupils sign in on the school's page: only from the school's addresses, group → name → secret,
throttled against guessing, with a teacher who can unlock."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from lxml import html

from klaspoort.audit.models import AuditEntry
from klaspoort.signin import throttling
from klaspoort.signin.models import SchoolSigninFacts
from klaspoort.signin.session import AT_SCHOOL, SIGNIN_KIND, SIGNIN_SCHOOL
from tests.factories import GroupFactory, PupilFactory, SchoolFactory, TeacherFactory, UserFactory
from tests.signin.conftest import OTHER_IP, SCHOOL_IP, give

pytestmark = pytest.mark.django_db


def at_school(client: Any, url: str, data: dict[str, Any] | None = None, **extra: Any):
    extra.setdefault("REMOTE_ADDR", SCHOOL_IP)
    if data is None:
        return client.get(url, **extra)
    return client.post(url, data, **extra)


def pick(client: Any, klas: Any, pupil: Any, pictures: tuple[int, int], **extra: Any):
    """Tap two picture tiles, as the plain form does (one request per tap)."""
    at_school(client, klas.secret(pupil), {"pick": pictures[0]}, **extra)
    return at_school(client, klas.secret(pupil),
                     {"picked": str(pictures[0]), "pick": pictures[1]}, **extra)


# --- Where the page answers --------------------------------------------------------------------
def test_from_the_school_address_the_page_shows_the_groups(client, klas):
    response = at_school(client, klas.page())
    page = response.content.decode()
    text = html.fromstring(page).text_content()  # as read: a tile's words may be in spans
    assert response.status_code == 200
    assert "Groep 1-2" in text and "Groep 6" in text
    assert klas.school.name in page


def test_elsewhere_the_page_says_so_kindly_and_names_no_school(client, klas):
    response = at_school(client, klas.page(), REMOTE_ADDR=OTHER_IP)
    page = response.content.decode()
    assert response.status_code == 403
    assert "alleen op school" in page
    assert klas.school.name not in page and "Groep" not in html.fromstring(page).text_content()
    # Deeper pages and a POST are refused the same way: no name, no sign-in.
    for url in (klas.names(klas.kleuters), klas.secret(klas.sam)):
        assert at_school(client, url, REMOTE_ADDR=OTHER_IP).status_code == 403
    response = pick(client, klas, klas.sam, klas.pictures, REMOTE_ADDR=OTHER_IP)
    assert response.status_code == 403 and "_auth_user_id" not in client.session


def test_an_unknown_reference_looks_exactly_like_a_wrong_address(client, klas):
    wrong_address = at_school(client, klas.page(), REMOTE_ADDR=OTHER_IP)
    unknown = at_school(client, reverse("signin:pupil_page", args=["x" * 22]))
    assert unknown.status_code == wrong_address.status_code == 403
    assert unknown.content == wrong_address.content


def test_a_forwarded_for_header_from_an_untrusted_peer_is_not_believed(client, klas, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["172.18.0.2"]
    spoofed = at_school(client, klas.page(), REMOTE_ADDR=OTHER_IP,
                        HTTP_X_FORWARDED_FOR=SCHOOL_IP)
    assert spoofed.status_code == 403
    proxied = at_school(client, klas.page(), REMOTE_ADDR="172.18.0.2",
                        HTTP_X_FORWARDED_FOR=SCHOOL_IP)
    assert proxied.status_code == 200


# --- The happy paths ---------------------------------------------------------------------------
def test_a_kleuter_signs_in_with_two_pictures_and_lands_on_the_portal(client, klas):
    names = at_school(client, klas.names(klas.kleuters)).content.decode()
    assert "Sam B." in names and "Bakker" not in names and "Noor" not in names
    page = at_school(client, klas.secret(klas.sam)).content.decode()
    assert 'name="pick"' in page and page.count('class="kid-picture"') == 16
    first = at_school(client, klas.secret(klas.sam), {"pick": 3})
    assert first.status_code == 200 and 'name="picked" value="3"' in first.content.decode()
    old_key = client.session.session_key
    response = at_school(client, klas.secret(klas.sam), {"picked": "3", "pick": 11})
    assert response.status_code == 302 and response["Location"] == reverse("signin:portal")
    assert int(client.session["_auth_user_id"]) == klas.sam.user_id
    assert client.session.session_key != old_key
    assert client.session[SIGNIN_KIND] == AT_SCHOOL
    assert client.session[SIGNIN_SCHOOL] == klas.school.pk
    portal = at_school(client, reverse("signin:portal"))
    assert portal.status_code == 200 and "Lesmateriaal" in portal.content.decode()
    # The portal greets the child with the name on their own tile, never the family name.
    assert '<span class="kid-header__user">Sam B.</span>' in portal.content.decode()


def test_a_pupil_signs_in_with_a_pincode_typed_or_tapped(client, klas):
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code, "key": "ok"})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == klas.noor.user_id
    client.logout()
    # The keypad without JavaScript: each tap sends the digits so far and the key.
    for typed, key in (("", "0"), ("0", "4"), ("04", "2"), ("042", "1")):
        page = at_school(client, klas.secret(klas.noor), {"code": typed, "key": key})
        assert page.status_code == 200
    response = at_school(client, klas.secret(klas.noor), {"code": "0421", "key": "7"})
    assert response.status_code == 302


def test_next_product_is_carried_through_every_step(client, klas):
    page = at_school(client, klas.page() + "?next=42").content.decode()
    assert f"{klas.names(klas.kleuters)}?next=42" in page
    names = at_school(client, klas.names(klas.kleuters) + "?next=42").content.decode()
    assert f"{klas.secret(klas.sam)}?next=42" in names
    at_school(client, klas.secret(klas.sam) + "?next=42", {"pick": 3, "next": "42"})
    response = at_school(client, klas.secret(klas.sam) + "?next=42",
                         {"picked": "3", "pick": 11, "next": "42"})
    assert response["Location"] == "/lesmateriaal/open/42/"
    # Garbage in next is ignored: the portal.
    client.logout()
    response = at_school(client, klas.secret(klas.noor) + "?next=javascript:x",
                         {"code": klas.code, "next": "//evil.example"})
    assert response["Location"] == reverse("signin:portal")


def test_signing_out_returns_to_the_schools_pupil_page(client, klas):
    at_school(client, klas.secret(klas.noor), {"code": klas.code})
    response = at_school(client, reverse("signin:pupil_logout"), {})
    assert response["Location"] == klas.page()
    assert "_auth_user_id" not in client.session


# --- Wrong secrets and throttling --------------------------------------------------------------
def test_wrong_pictures_say_so_in_child_friendly_words(client, klas):
    response = pick(client, klas, klas.sam, (3, 12))
    assert response.status_code == 200
    assert "niet jouw plaatjes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_guessing_a_pincode_is_stopped_and_the_teacher_unlocks(client, klas):
    for guess in range(throttling.PUPIL_STEP):
        response = at_school(client, klas.secret(klas.noor), {"code": f"1111{guess}"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "Wacht 1 minuut" in page and "juf of meester" in page
    # Now even the right code waits: nothing is compared while the pupil waits.
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # Another pupil of the class is not locked out.
    give(klas.sam, "plaatjes:1-2")
    assert pick(client, klas, klas.sam, (1, 2)).status_code == 302
    client.logout()
    # The teacher of the group unlocks Noor.
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.groep6)
    teacher_client = type(client)()
    teacher_client.force_login(teacher.user)
    group_page = teacher_client.get(reverse("teacher:group", args=[klas.groep6.pk]))
    assert reverse("teacher:pupil_help", args=[klas.groep6.pk]) in group_page.content.decode()
    response = teacher_client.post(reverse("teacher:pupil_help", args=[klas.groep6.pk]),
                                   {"pupil": klas.noor.pk, "action": "unlock"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="signin.pupil.unlock").exists()
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code})
    assert response.status_code == 302


def test_the_waits_grow_and_are_capped():
    waits = [throttling.pupil_wait_seconds(n) for n in (4, 5, 10, 15, 20, 500)]
    assert waits == [0, 60, 120, 240, 480, throttling.PUPIL_MAX_WAIT]


def test_one_address_trying_many_pupils_hits_the_address_limit(client, klas, settings):
    settings.CACHES = settings.CACHES  # the locmem cache of the test settings
    for _ in range(throttling.ADDRESS_LIMIT):
        throttling.record_failure(pupil_id=None, address=SCHOOL_IP, school_id=klas.school.pk)
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code})
    assert response.status_code == 429 and "druk" in response.content.decode()
    # Another address of the same school is not affected.
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code},
                         REMOTE_ADDR="145.10.20.31")
    assert response.status_code == 302


def test_a_teacher_cannot_unlock_a_pupil_of_a_group_they_do_not_teach(client, klas):
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.kleuters)
    client.force_login(teacher.user)
    response = client.post(reverse("teacher:pupil_help", args=[klas.groep6.pk]),
                           {"pupil": klas.noor.pk, "action": "unlock"})
    assert response.status_code == 404
    response = client.post(reverse("teacher:pupil_help", args=[klas.kleuters.pk]),
                           {"pupil": klas.noor.pk, "action": "unlock"})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="signin.pupil.unlock").exists()


def test_the_coordinator_unlocks_in_beheer(coordinator_client, klas):
    for _ in range(5):
        throttling.record_failure(pupil_id=klas.noor.pk, address=SCHOOL_IP,
                                  school_id=klas.school.pk)
    group_page = coordinator_client.get(reverse("roster:group", args=[klas.school.brin6,
                                                                      klas.groep6.pk]))
    help_url = reverse("signin:coordinator_pupil_help", args=[klas.school.brin6, klas.groep6.pk])
    assert help_url in group_page.content.decode()
    coordinator_client.post(help_url, {"pupil": klas.noor.pk, "action": "unlock"})
    assert throttling.current_wait(pupil_id=klas.noor.pk, address=SCHOOL_IP,
                                   school_id=klas.school.pk) is None


# --- Bad input ---------------------------------------------------------------------------------
def test_bad_input_never_breaks_a_page(client, klas):
    other = SchoolFactory()
    other_group = GroupFactory(school=other)
    other_pupil = PupilFactory(school=other, group=other_group)
    ref = klas.school.pupil_page_ref
    long = "9" * 10_000
    for url in (reverse("signin:pupil_names", args=[ref, "abc"]),
                reverse("signin:pupil_names", args=[ref, long]),
                reverse("signin:pupil_names", args=[ref, "99999999999999999999"]),
                reverse("signin:pupil_names", args=[ref, other_group.pk]),
                reverse("signin:pupil_secret", args=[ref, other_group.pk, other_pupil.pk]),
                reverse("signin:pupil_secret", args=[ref, klas.kleuters.pk, klas.noor.pk]),
                reverse("signin:pupil_secret", args=[ref, klas.kleuters.pk, "x" * 10_000])):
        response = at_school(client, url)
        assert response.status_code == 404, url[:80]
        assert "opnieuw" in response.content.decode().lower()
    for data in ({"code": "x" * 10_000}, {"picked": "1-" * 5000, "pick": long},
                 {"key": long, "code": long}, {"next": long, "code": "12"}):
        for pupil in (klas.sam, klas.noor):
            response = at_school(client, klas.secret(pupil), data)
            assert response.status_code in (200, 429), data.keys()
    assert "_auth_user_id" not in client.session
    response = at_school(client, reverse("signin:pupil_page", args=["y" * 10_000]))
    assert response.status_code in (403, 404)
    response = at_school(client, reverse("signin:card", args=[ref, "z" * 10_000]))
    assert response.status_code == 404


# --- Queries stay constant in the size of the school --------------------------------------------
def test_queries_do_not_grow_with_the_school(client, klas, django_assert_max_num_queries):
    # A school that has had sign-ins before: the checklist's note is one UPDATE (once an hour).
    SchoolSigninFacts.objects.create(school=klas.school)

    def measure() -> None:
        # The first page after a change reads the school, its networks, the group, its names
        # and the notices; the next pages of the sign-in find them kept (klaspoort.kept) and
        # read only the pupil; the sign-in adds the user's last_login, the checklist's note and
        # the session's one INSERT (between a SAVEPOINT and its RELEASE in a test).
        with django_assert_max_num_queries(6):
            assert at_school(client, klas.names(klas.kleuters)).status_code == 200
        with django_assert_max_num_queries(1):
            at_school(client, klas.secret(klas.sam), {"pick": klas.pictures[0]})
        with django_assert_max_num_queries(6):
            response = at_school(client, klas.secret(klas.sam),
                                 {"picked": str(klas.pictures[0]), "pick": klas.pictures[1]})
            assert response.status_code == 302
        client.logout()

    measure()
    for n in range(40):
        PupilFactory(school=klas.school, group=klas.kleuters, first_name=f"Kind{n}")
        GroupFactory(school=klas.school)
    measure()
