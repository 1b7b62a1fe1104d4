"""*Mijn profiel*: changing the own password with the activation rules, other sessions ended,
and a way back to Beheer (issue 11, item 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, TeacherFactory, UserFactory
from tests.licences.factories import PublisherMemberFactory

pytestmark = pytest.mark.django_db
NEW = "Zonnebloem42"


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(reverse("profile"), {
        "old_password": old, "new_password1": new, "new_password2": again or new}, follow=True)


def test_the_profile_offers_the_change_and_the_way_back_to_beheer(coordinator_client):
    page = coordinator_client.get(reverse("profile")).content.decode()
    assert "Wachtwoord wijzigen" in page and "Huidig wachtwoord" in page
    assert "Minstens 8 tekens, met letters én cijfers" in page
    assert f'href="{reverse("schools:home")}"' in page and "Terug naar Beheer" in page
    assert "Uw " not in page and " uw " not in page


def test_a_coordinator_changes_the_password_stored_with_argon2id(coordinator_client,
                                                                 coordinator):
    response = change(coordinator_client)
    assert "Je wachtwoord is gewijzigd" in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.password.startswith("argon2$argon2id$")
    assert coordinator.check_password(NEW) and not coordinator.check_password(PASSWORD)
    # This session stays signed in.
    assert coordinator_client.get(reverse("profile")).status_code == 200


def test_the_other_sessions_end(coordinator_client, coordinator):
    elsewhere = Client()
    assert elsewhere.login(email=coordinator.email, password=PASSWORD)
    assert elsewhere.get(reverse("profile")).status_code == 200
    change(coordinator_client)
    response = elsewhere.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("old", "new", "again", "message"), [
    ("Verkeerd123", NEW, None, "Dat is niet je huidige wachtwoord"),
    (PASSWORD, "kort1", None, "Dit wachtwoord is te kort: gebruik minstens 8 tekens"),
    (PASSWORD, "alleenletters", None, "zowel letters als cijfers"),
    (PASSWORD, NEW, "Anders12345", "komen niet overeen"),
    (PASSWORD, "password123", None, "te algemeen"),
])
def test_a_refused_change_says_why_in_dutch_and_keeps_the_password(
        coordinator_client, coordinator, old, new, again, message):
    response = change(coordinator_client, old, new, again)
    assert response.status_code == 400
    assert message in response.content.decode()
    # The error summary at the top takes the focus and links to the field (issue 11, item 13).
    assert 'id="error-summary" tabindex="-1" autofocus' in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.check_password(PASSWORD)


def test_a_teacher_changes_the_password_and_finds_mijn_groepen_back(client, school):
    user = UserFactory(email="juf@regenboog.example")
    TeacherFactory(school=school, user=user, email=user.email)
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    assert "Terug naar Mijn groepen" in page and "Terug naar Beheer" not in page
    change(client)
    assert get_user_model().objects.get(pk=user.pk).check_password(NEW)


def test_guessing_the_current_password_is_throttled_like_sign_in(coordinator_client,
                                                                 coordinator):
    for _attempt in range(5):
        assert change(coordinator_client, old="Geraden123").status_code == 400
    response = change(coordinator_client)  # even the right password now waits
    assert response.status_code == 429
    assert "Te veel pogingen" in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.check_password(PASSWORD)


def test_the_owner_hears_of_the_change_by_dutch_e_mail(coordinator_client, coordinator,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the notice leaves on commit
        change(coordinator_client)
    [message] = mail.outbox
    assert message.to == [coordinator.email]
    assert message.subject == "Je wachtwoord voor Klaspoort is gewijzigd"
    assert "Was jij dit niet?" in message.body
    assert reverse("accounts:password_reset") in message.body
    assert NEW not in message.body and PASSWORD not in message.body


def test_publisher_staff_change_the_password_and_find_the_portal_back(client, db):
    member = PublisherMemberFactory()
    client.force_login(member.user)
    page = client.get(reverse("profile")).content.decode()
    assert "Terug naar het uitgeversportaal" in page and "Terug naar Beheer" not in page
    assert f'href="{reverse("publisher:index")}"' in page
    change(client)
    assert get_user_model().objects.get(pk=member.user.pk).check_password(NEW)
