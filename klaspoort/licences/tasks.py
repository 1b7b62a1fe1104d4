"""The licences app's daily task (Celery beat): thin, it calls licences.reminders."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from klaspoort.licences import reminders


@shared_task(name="klaspoort.licences.tasks.cancellation_reminders")
def cancellation_reminders() -> int:
    """Every day: the reminder to cancel contracts on the days it is due (once a year per
    school); nothing on the other days."""
    return reminders.send_cancellation_reminders(timezone.localdate())
