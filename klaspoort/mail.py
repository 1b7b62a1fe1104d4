"""Mail: every message Klaspoort sends is rendered in Dutch, queued, and sent after commit.

A project-level module (it imports no app), so every app can send mail: invitations and
activation (accounts), consent receipts (schools), held imports (roster), and whatever comes.
The message is rendered by the caller while the request's data is at hand; only its text
travels through the broker, in the Celery task below.
"""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


@shared_task(name="klaspoort.mail.send_mail", autoretry_for=(OSError, SMTPException),
             retry_backoff=30, max_retries=5)
def send_mail(subject: str, text: str, html: str, to: list[str]) -> int:
    """Send one message with a plain-text and an HTML part; a mail server that is down is
    tried again later (with a real broker) instead of losing the message."""
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    return message.send()


def queue_mail(subject: str, text: str, html: str, to: list[str]) -> None:
    """Send a rendered message only once the current transaction has committed.

    RULE: a change that is rolled back never mails anybody (an invitation for an account that
    does not exist, a receipt for a consent that was not saved). Outside a transaction the
    message goes at once. Sending runs as a Celery task (in-process in the embedded default); a
    failing mail server is logged and never undoes or breaks the saved change.
    """
    transaction.on_commit(lambda: send_mail.delay(subject, text, html, list(to)),
                          robust=True)


def send_mail_pair(template: str, to: str, context: dict[str, Any]) -> None:
    """Every message goes out in Dutch (whatever the sender's screen language), with a
    plain-text part and an HTML part from the same context; it is rendered now and sent after
    commit (queue_mail)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
    queue_mail(subject, text, html, [to])
