"""Mail leaves only after the change that caused it has been committed (issue 3, e-mail).

These tests use the real test transaction: pytest-django never commits it, so nothing is sent
unless the on-commit callbacks are run by hand, exactly as a commit would run them.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from klaspoort.accounts.models import User
from klaspoort.roster import teacher_accounts
from klaspoort.schools import services as school_services
from klaspoort.schools.models import Publisher
from klaspoort.schools.services import set_publisher_consents
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_invitation_is_mailed_only_after_commit(school, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
        assert mailoutbox == []  # still inside the transaction
    assert len(callbacks) == 1
    [message] = mailoutbox
    assert message.to == ["nieuw@regenboog.example"]
    assert "Klaspoort" in message.subject
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "/accounts/activeren/" in html


def test_a_rolled_back_invitation_mails_nobody(school, mailoutbox,
                                               django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
        raise RuntimeError("something later in the same change failed")
    assert callbacks == []
    assert mailoutbox == []
    assert not User.objects.filter(email="nieuw@regenboog.example").exists()


def test_a_rolled_back_teacher_address_mails_nobody(school, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    teacher = TeacherFactory(school=school, email="")
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        teacher_accounts.set_teacher_email(school=school, teacher=teacher,
                                           email="lk@regenboog.example", actor=None)
        raise RuntimeError
    assert callbacks == [] and mailoutbox == []


def test_a_consent_receipt_is_mailed_after_commit_and_not_after_a_rollback(
        school, coordinator, mailoutbox, django_capture_on_commit_callbacks):
    publisher = Publisher.objects.get_or_create(slug="malmberg", defaults={"name": "Malmberg"})[0]
    with (django_capture_on_commit_callbacks(execute=True),
          pytest.raises(RuntimeError), transaction.atomic()):
        set_publisher_consents(school, [publisher.pk], coordinator)
        raise RuntimeError
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        set_publisher_consents(school, [publisher.pk], coordinator)
        assert mailoutbox == []
    assert callbacks  # the receipt waited for the commit (so did the publisher feed)
    [receipt] = mailoutbox
    assert receipt.to == [coordinator.email]
    assert "Malmberg" in receipt.body


def test_a_password_reset_goes_out_after_commit_in_dutch_with_both_parts(
        client, mailoutbox, django_capture_on_commit_callbacks):
    UserFactory(email="bekend@regenboog.example")
    client.cookies["django_language"] = "en"  # the screen in English; the mail stays Dutch
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("accounts:password_reset"), {"email": "bekend@regenboog.example"})
    assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    [message] = mailoutbox
    assert message.to == ["bekend@regenboog.example"]
    assert "wachtwoord" in (message.subject + message.body).lower()
    assert message.alternatives[0][1] == "text/html"


def test_sending_runs_as_a_celery_task(school, mailoutbox, monkeypatch,
                                       django_capture_on_commit_callbacks):
    from klaspoort import mail

    sent = []
    original = mail.send_mail.delay
    monkeypatch.setattr(mail.send_mail, "delay",
                        lambda *args: sent.append(args) or original(*args))
    with django_capture_on_commit_callbacks(execute=True):
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
    [(_subject, text, _html, to)] = sent
    assert to == ["nieuw@regenboog.example"] and "/accounts/activeren/" in text
    assert len(mailoutbox) == 1
