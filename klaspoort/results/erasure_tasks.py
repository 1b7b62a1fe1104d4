"""The summer erasure's daily task (Celery beat): thin, it calls results.erasure.

In its own module (not results.tasks) and listed in CELERY_IMPORTS, since Celery discovers only
the apps' `tasks` modules by itself."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from klaspoort.results import erasure


@shared_task(name="klaspoort.results.erasure_tasks.summer_erasure")
def summer_erasure() -> dict[str, int]:
    """Every day: the reminder when its day has come (once a year per school), and the erasure
    from its day on (once a year per school; a later day only erases what was held back for the
    LAS). Both do nothing on the other days."""
    today = timezone.localdate()
    reminded = erasure.send_erasure_reminders(today)
    erased = 0
    if today >= erasure.erasure_date(today.year):
        erased = erasure.erase_for_summer(today, None).total("erased")
    return {"reminders": reminded, "erased": erased}
