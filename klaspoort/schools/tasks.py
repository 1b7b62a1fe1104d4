"""The schools app's daily task (Celery beat): thin, it calls schools.reminders."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from klaspoort.schools import reminders


@shared_task(name="klaspoort.schools.tasks.year_start_reminders")
def year_start_reminders() -> int:
    """Every day: the reminder before the school year on the days it is due (once a year per
    school); nothing on the other days."""
    return reminders.send_year_start_reminders(timezone.localdate())
