import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from klaspoort.accounts.models import User
from klaspoort.accounts.tokens import ActivationTokenGenerator
from klaspoort.audit.models import AuditEntry
from klaspoort.schools import services as school_services
from klaspoort.schools.models import SchoolMembership
from tests.factories import CoordinatorFactory, SchoolFactory, UserFactory

# Mail leaves after commit: what mails runs inside
# django_capture_on_commit_callbacks(execute=True), which runs what a commit would run (and
# nothing a rollback dropped), so these tests read the outbox as production fills it.

NEW_PASSWORD = "Zonnebloem47"


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/activeren/[^\s\"?]+/(\?uitnodiging=[^\s\"]+)?)",
                      message.body)
    assert match, message.body
    return match.group(1)


def _set_password(client, link, password=NEW_PASSWORD):
    return client.post(link, {"new_password1": password, "new_password2": password})


@pytest.mark.django_db
def test_invite_command_creates_coordinator_and_mails_dutch_text_and_html(
        school, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invite-coordinator", school.brin6, "Nieuw@Regenboog.example")
    user = User.objects.get(email="nieuw@regenboog.example")
    # The invitation is accepted by setting the password (test_activation_accepts_...).
    assert not SchoolMembership.objects.filter(user=user, school=school).exists()
    assert not user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["nieuw@regenboog.example"]
    assert "wachtwoord" in message.subject.lower()
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    assert "/accounts/activeren/" in message.alternatives[0][0]


@pytest.mark.django_db
def test_invite_command_refuses_unknown_school_and_bad_address(
        school, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(CommandError):
            call_command("invite-coordinator", "11XX00", "a@b.example")
        with pytest.raises(CommandError):
            call_command("invite-coordinator", school.brin6, "geen-adres")
        call_command("invite-coordinator", "11XX00", "a@b.example", "--create-school")
    [message] = mail.outbox
    assert message.to == ["a@b.example"]
    _set_password(Client(), _link(message))
    assert SchoolMembership.objects.filter(school__brin="11XX", user__email="a@b.example").exists()


@pytest.mark.django_db
def test_activation_link_works_once(client, school, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
    link = _link(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = _set_password(client, link)
    assert response.status_code == 302
    assert client.login(email="nieuw@regenboog.example", password=NEW_PASSWORD)
    client.logout()
    again = _set_password(client, link, "Anders12345")
    assert again.status_code == 400
    assert "werkt niet meer" in again.content.decode()
    # A used link says it may have been used, not only that it is old.
    assert "al gebruikt" in again.content.decode()
    assert client.login(email="nieuw@regenboog.example", password=NEW_PASSWORD)


@pytest.mark.django_db
def test_expired_activation_link_is_refused(client, school, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
    link = _link(mail.outbox[0])
    later = datetime.now() + timedelta(days=7, hours=1)
    with mock.patch.object(ActivationTokenGenerator, "_now", return_value=later):
        assert _set_password(client, link).status_code == 400
    assert not User.objects.get(email="nieuw@regenboog.example").has_usable_password()
    # Within the 7 days it still works.
    sooner = datetime.now() + timedelta(days=6)
    with mock.patch.object(ActivationTokenGenerator, "_now", return_value=sooner):
        assert _set_password(client, link).status_code == 302


@pytest.mark.django_db
def test_weak_passwords_are_refused_on_activation(client, school,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
    link = _link(mail.outbox[0])
    for weak in ("ab12", "alleenletters", "password1", "Regenboog12"):
        response = _set_password(client, link, weak)
        assert response.status_code == 200, weak
        assert response.context["form"].errors, weak
    assert not User.objects.get(email="nieuw@regenboog.example").has_usable_password()


@pytest.mark.django_db
def test_coordinator_invites_and_resends_for_own_school(coordinator_client, school,
                                                        django_capture_on_commit_callbacks):
    url = reverse("roster:coordinator_invite", kwargs={"brin6": school.brin6})
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(url, {"email": "tweede@regenboog.example"})
    user = User.objects.get(email="tweede@regenboog.example")
    assert AuditEntry.objects.filter(school=school, action="accounts.coordinator.invite").exists()
    # Inviting again sends a new link; the first keeps working (nobody's link is reset).
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(url, {"email": "tweede@regenboog.example"})
    assert len(mail.outbox) == 2
    assert _set_password(Client(), _link(mail.outbox[0])).status_code == 302
    assert SchoolMembership.objects.filter(user=user, school=school).exists()
    assert AuditEntry.objects.filter(school=school, action="accounts.coordinator.accept").exists()
    # A coordinator still pending from before: Opnieuw versturen replaces the earlier link.
    pending = CoordinatorFactory(school=school, password="!")
    page = coordinator_client.get(reverse("roster:coordinators", kwargs={"brin6": school.brin6}))
    resend = reverse("roster:coordinator_resend",
                     kwargs={"brin6": school.brin6, "user_id": pending.pk})
    assert resend in page.content.decode()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            coordinator_client.post(resend)
    assert _set_password(Client(), _link(mail.outbox[-2])).status_code == 400
    assert _set_password(Client(), _link(mail.outbox[-1])).status_code == 302


@pytest.mark.django_db
def test_coordinator_cannot_invite_or_resend_for_another_school(
        coordinator_client, django_capture_on_commit_callbacks):
    other = SchoolFactory()
    pending = CoordinatorFactory(school=other, password="!")
    invite = reverse("roster:coordinator_invite", kwargs={"brin6": other.brin6})
    resend = reverse("roster:coordinator_resend",
                     kwargs={"brin6": other.brin6, "user_id": pending.pk})
    with django_capture_on_commit_callbacks(execute=True):
        assert coordinator_client.post(invite, {"email": "x@y.example"}).status_code == 404
        assert coordinator_client.post(resend).status_code == 404
    assert not User.objects.filter(email="x@y.example").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_resend_for_an_activated_coordinator_is_404(coordinator_client, school, coordinator,
                                                    django_capture_on_commit_callbacks):
    resend = reverse("roster:coordinator_resend",
                     kwargs={"brin6": school.brin6, "user_id": coordinator.pk})
    with django_capture_on_commit_callbacks(execute=True):
        assert coordinator_client.post(resend).status_code == 404
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "geen-adres", "x" * 300 + "@school.example"])
def test_invalid_invitation_address_gives_a_dutch_message_and_changes_nothing(
        coordinator_client, school, bad, django_capture_on_commit_callbacks):
    url = reverse("roster:coordinator_invite", kwargs={"brin6": school.brin6})
    users = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url, {"email": bad})
    # The page comes back with the error summary and the address as typed (issue 11, item 13).
    assert response.status_code == 400
    errors = response.context["invite_form"].errors["email"]
    assert errors and all(("Vul" in e or "Zorg" in e) for e in errors), errors
    page = response.content.decode()
    assert 'id="error-summary"' in page and 'href="#invite-email"' in page
    assert f'value="{bad}"' in page
    assert User.objects.count() == users
    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------
# Issue 10, finding 6: an invitation never takes over an existing account
# ---------------------------------------------------------------------------------------------
def _invite(client, school, email):
    url = reverse("roster:coordinator_invite", kwargs={"brin6": school.brin6})
    response = client.post(url, {"email": email}, follow=True)
    return [str(m.message).replace(email, "EMAIL") for m in response.context["messages"]]


def _invitation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/uitnodiging/[^\s\"]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db
def test_inviting_an_existing_account_changes_nothing_and_tells_the_inviter_nothing(
        coordinator_client, school, django_capture_on_commit_callbacks):
    elsewhere = CoordinatorFactory(email="juf@anderschool.example")
    password_before = elsewhere.password
    with django_capture_on_commit_callbacks(execute=True):
        said_for_existing = _invite(coordinator_client, school, "juf@anderschool.example")
    with django_capture_on_commit_callbacks(execute=True):
        said_for_new = _invite(coordinator_client, school, "nieuw@regenboog.example")
    assert said_for_existing == said_for_new
    elsewhere.refresh_from_db()
    assert elsewhere.password == password_before
    assert not SchoolMembership.objects.filter(user=elsewhere, school=school).exists()
    page = coordinator_client.get(
        reverse("roster:coordinators", kwargs={"brin6": school.brin6})).content.decode()
    assert "juf@anderschool.example" not in page and "nieuw@regenboog.example" not in page
    actions = list(AuditEntry.objects.filter(school=school).values_list("action", flat=True))
    assert actions == ["accounts.coordinator.invite", "accounts.coordinator.invite"]
    # The owner, and only the owner, receives an invitation to accept.
    assert [m.to for m in mail.outbox] == [["juf@anderschool.example"],
                                           ["nieuw@regenboog.example"]]
    assert "/accounts/uitnodiging/" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_owner_accepts_the_invitation_signed_in_as_themselves(
        client, school, django_capture_on_commit_callbacks):
    elsewhere = CoordinatorFactory(email="juf@anderschool.example")
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, elsewhere.email)
    link = _invitation_link(mail.outbox[0])
    assert client.get(link)["Location"].startswith(reverse("accounts:login"))
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(link).status_code == 403
    assert not SchoolMembership.objects.filter(school=school).exists()
    client.force_login(elsewhere)
    page = client.get(link)
    assert page.status_code == 200 and school.name in page.content.decode()
    assert not SchoolMembership.objects.filter(user=elsewhere, school=school).exists()
    assert client.post(link).status_code == 302
    assert SchoolMembership.objects.filter(user=elsewhere, school=school).exists()
    assert client.get(reverse("roster:coordinators", kwargs={"brin6": school.brin6})
                      ).status_code == 200
    assert client.get("/accounts/uitnodiging/vervalst/").status_code == 400


@pytest.mark.django_db
def test_a_pending_activation_elsewhere_keeps_working(client, school,
                                                      django_capture_on_commit_callbacks):
    other = SchoolFactory()
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(other, "nieuw@anderschool.example")
    first_link = _link(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, "nieuw@anderschool.example")
    assert len(mail.outbox) == 2
    # The earlier link still sets the password; this school's invitation is not accepted by it.
    assert _set_password(client, first_link).status_code == 302
    user = User.objects.get(email="nieuw@anderschool.example")
    assert SchoolMembership.objects.filter(user=user, school=other).exists()
    assert not SchoolMembership.objects.filter(user=user, school=school).exists()
    assert client.login(email=user.email, password=NEW_PASSWORD)


@pytest.mark.django_db
def test_the_command_says_the_same_for_an_existing_and_a_new_address(school, capsys):
    CoordinatorFactory(email="juf@anderschool.example")
    call_command("invite-coordinator", school.brin6, "juf@anderschool.example")
    call_command("invite-coordinator", school.brin6, "nieuw@regenboog.example")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines if line] == [
        lines[0].split(" ", 1)[1]] * 2
    assert not SchoolMembership.objects.filter(school=school).exists()
