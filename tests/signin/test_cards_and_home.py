"""QR sign-in cards (only at school, voidable) and home sign-in (thuisinlog, off by default)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from lxml import html

from klaspoort.audit.models import AuditEntry
from klaspoort.signin import selectors, services, throttling
from klaspoort.signin.models import PupilCard
from klaspoort.signin.session import AT_HOME, SIGNIN_KIND, WITH_CARD
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from tests.signin.conftest import OTHER_IP, SCHOOL_IP

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher_client(client, klas):
    teacher = TeacherFactory(school=klas.school, user=UserFactory())
    teacher.groups.add(klas.kleuters)
    client.force_login(teacher.user)
    return client


def printed_card(teacher_client: Any, klas: Any) -> str:
    """The card address in the QR code of Sam's card on the group's Printversie."""
    page = teacher_client.get(reverse("teacher:print_cards", args=[klas.kleuters.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "<svg" in content and "segno" in content
    card = PupilCard.objects.get(pupil=klas.sam, voided_at__isnull=True)
    token = services._token_of(card)
    assert token is not None and card.token_digest == selectors.token_digest(token)
    # The QR code on the page is exactly the code of the card's address.
    assert str(services.qr_svg(services.card_url(klas.school, token), "x")).split(
        "</title>", 1)[1] in content
    return reverse("signin:card", args=[klas.school.pupil_page_ref, token])


def test_a_printed_card_signs_the_pupil_in_at_school(client, klas, teacher_client):
    url = printed_card(teacher_client, klas)
    teacher_client.logout()
    response = client.get(url, REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302 and response["Location"] == reverse("signin:portal")
    assert int(client.session["_auth_user_id"]) == klas.sam.user_id
    assert client.session[SIGNIN_KIND] == WITH_CARD


def test_printing_again_shows_the_same_card(teacher_client, klas):
    first = printed_card(teacher_client, klas)
    second = printed_card(teacher_client, klas)
    assert first == second
    assert PupilCard.objects.filter(pupil=klas.sam).count() == 1
    assert AuditEntry.objects.filter(action="signin.card.issue").count() == 1


def test_a_card_used_outside_school_does_nothing(client, klas, teacher_client):
    url = printed_card(teacher_client, klas)
    teacher_client.logout()
    response = client.get(url, REMOTE_ADDR=OTHER_IP)
    assert response.status_code == 403
    assert klas.school.name not in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_voided_card_fails_without_saying_why(client, klas, teacher_client):
    url = printed_card(teacher_client, klas)
    response = teacher_client.post(reverse("teacher:pupil_help", args=[klas.kleuters.pk]),
                                   {"pupil": klas.sam.pk, "action": "card"})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="signin.card.reissue").exists()
    teacher_client.logout()
    voided = client.get(url, REMOTE_ADDR=SCHOOL_IP)
    wrong = client.get(reverse("signin:card", args=[klas.school.pupil_page_ref, "A" * 32]),
                       REMOTE_ADDR=SCHOOL_IP)
    assert voided.status_code == wrong.status_code == 404
    assert voided.content == wrong.content
    assert "werkt niet" in voided.content.decode()
    assert "_auth_user_id" not in client.session
    # The new card works.
    new = services._token_of(PupilCard.objects.get(pupil=klas.sam, voided_at__isnull=True))
    response = client.get(reverse("signin:card", args=[klas.school.pupil_page_ref, new]),
                          REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302


def test_a_card_of_another_school_does_not_work_on_this_schools_page(client, klas):
    other = SchoolFactory()
    url = services.reissue_card(actor=None, pupil=klas.sam)
    token = url.rstrip("/").rsplit("/", 1)[1]
    klas.sam.school = other  # a card is only found under its own school
    response = client.get(reverse("signin:card", args=[klas.school.pupil_page_ref, token]),
                          REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302  # its own school: fine
    client.logout()
    other_ref = other.pupil_page_ref
    from klaspoort.schools.models import SchoolNetwork
    SchoolNetwork.objects.create(school=other, network="145.10.20.0/24")
    response = client.get(reverse("signin:card", args=[other_ref, token]), REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 404


def test_failed_cards_count_per_address(client, klas):
    bad = reverse("signin:card", args=[klas.school.pupil_page_ref, "B" * 32])
    for _ in range(throttling.ADDRESS_LIMIT):
        client.get(bad, REMOTE_ADDR=SCHOOL_IP)
    response = client.get(bad, REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 429 and "Wacht even" in response.content.decode()
    # Pictures and codes wait too; a real card still works, so the class can go on.
    secret = client.post(klas.secret(klas.noor), {"code": klas.code}, REMOTE_ADDR=SCHOOL_IP)
    assert secret.status_code == 429
    url = services.reissue_card(actor=None, pupil=klas.sam)
    token = url.rstrip("/").rsplit("/", 1)[1]
    response = client.get(reverse("signin:card", args=[klas.school.pupil_page_ref, token]),
                          REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302


def test_the_coordinator_prints_cards_with_qr_codes(coordinator_client, klas):
    response = coordinator_client.get(reverse("signin:print_cards",
                                              args=[klas.school.brin6, klas.kleuters.pk]))
    content = response.content.decode()
    assert content.count('class="segno"') == 1
    assert f"/leerling/{klas.school.pupil_page_ref}/" in content


# --- Home sign-in ----------------------------------------------------------------------------
def test_home_signin_is_off_by_default_and_says_so(client, klas):
    response = client.get(reverse("signin:home_page", args=[klas.school.public_id]))
    assert response.status_code == 404
    assert "niet aangezet" in response.content.decode()
    assert klas.school.name not in response.content.decode()
    response = client.post(reverse("signin:home_school"), {"school_id": klas.school.public_id})
    assert response.status_code == 404 and "niet aangezet" in response.content.decode()
    unknown = client.get(reverse("signin:home_page", args=["ABCDEFGHJKLM"]))
    assert unknown.content == client.get(
        reverse("signin:home_page", args=[klas.school.public_id])).content


def test_the_coordinator_switches_home_signin_on(coordinator_client, klas):
    data = reverse("schools:data", args=[klas.school.brin6])
    setting = reverse("signin:home_signin_setting", args=[klas.school.brin6])
    page = coordinator_client.get(data).content.decode()
    assert "thuis inloggen" in page and f'action="{setting}"' in page
    response = coordinator_client.post(setting, {"home_signin_enabled": "on"})
    assert response.status_code == 302 and response["Location"] == data
    klas.school.refresh_from_db()
    assert klas.school.home_signin_enabled
    assert AuditEntry.objects.filter(action="signin.home.set").count() == 1
    coordinator_client.post(setting, {})
    klas.school.refresh_from_db()
    assert not klas.school.home_signin_enabled


def test_at_home_the_school_id_is_entered_once_then_the_same_flow(client, klas):
    klas.school.home_signin_enabled = True
    klas.school.save()
    # The device was used at school once (decision 0016), then goes home.
    response = client.post(klas.secret(klas.noor), {"code": klas.code}, REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302 and "klaspoort_device" in response.cookies
    client.post(reverse("signin:pupil_logout"))
    typed = klas.school.public_id.lower()[:4] + " " + klas.school.public_id.lower()[4:]
    response = client.post(reverse("signin:home_school"), {"school_id": typed},
                           REMOTE_ADDR=OTHER_IP)
    home = reverse("signin:home_page", args=[klas.school.public_id])
    assert response.status_code == 302 and response["Location"] == home
    # The device remembers the school: /thuis/ goes straight to the groups next time.
    assert client.get(reverse("signin:home_school"))["Location"] == home
    page = client.get(home, REMOTE_ADDR=OTHER_IP).content.decode()
    text = html.fromstring(page).text_content()  # as read: a tile's words may be in spans
    assert "Groep 6" in text
    assert "Groep 1-2" not in text  # only the groups of pupils enrolled on this device
    secret = reverse("signin:home_secret", args=[klas.school.public_id, klas.groep6.pk,
                                                  klas.noor.pk])
    response = client.post(secret, {"code": klas.code}, REMOTE_ADDR=OTHER_IP)
    assert response.status_code == 302
    assert client.session[SIGNIN_KIND] == AT_HOME
    response = client.post(reverse("signin:pupil_logout"))
    assert response["Location"] == home


def test_a_tampered_school_cookie_is_ignored(client, klas):
    client.cookies["klaspoort_school"] = klas.school.public_id
    response = client.get(reverse("signin:home_school"))
    assert response.status_code == 200 and "School ID" in response.content.decode()
