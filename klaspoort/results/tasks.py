"""Celery tasks of the results app: thin, they call results.delivery."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from klaspoort.results import delivery

# A retry further away than this is left to the periodic sweep: a Redis broker hands an ETA
# task that waits longer than its visibility timeout to a second worker as well.
_LONGEST_COUNTDOWN = dt.timedelta(minutes=5)


@shared_task(name="klaspoort.results.tasks.deliver_coupling", acks_late=True)
def deliver_coupling(coupling_id: int) -> int:
    """Send the waiting results of one coupling; after a failure, come back when the rows'
    backoff ends (or let the sweep do it). Returns the results sent."""
    summary = delivery.deliver(coupling_id)
    # Run eagerly (the embedded default), a task with a countdown would run at once and retry
    # without any wait: there the periodic sweep or the next result brings the retry.
    if (summary.following is not None and not deliver_coupling.app.conf.task_always_eager
            and summary.following - timezone.now() <= _LONGEST_COUNTDOWN):
        deliver_coupling.apply_async((coupling_id,), eta=summary.following)
    return summary.sent


@shared_task(name="klaspoort.results.tasks.deliver_due_results")
def deliver_due_results() -> int:
    """Every minute (beat): couplings whose rows are due but whose task was lost (a worker
    died mid-batch, the broker restarted) or whose backoff ended get their task again."""
    due = delivery.due_coupling_ids()
    for coupling_id in due:
        deliver_coupling.delay(coupling_id)
    return len(due)
