"""Celery tasks of the accounts app: sending a rendered message.

The message is rendered by the caller (in Dutch, while the request's data is at hand) and only
its text travels through the broker; accounts.services.queue_mail starts this task once the
caller's transaction has committed.
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives


@shared_task(name="klaspoort.accounts.tasks.send_mail", autoretry_for=(OSError, SMTPException),
             retry_backoff=30, max_retries=5)
def send_mail(subject: str, text: str, html: str, to: list[str]) -> int:
    """Send one message with a plain-text and an HTML part; a mail server that is down is
    tried again later (with a real broker) instead of losing the message."""
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    return message.send()
