"""Celery tasks of the publisher feed and its webhook notices: thin wrappers around
exchange.feed and exchange.webhooks."""

from celery import shared_task
from django.utils import timezone

from klaspoort.exchange import feed, webhooks


@shared_task(name="klaspoort.exchange.tasks.publish_pending")
def publish_pending(school_ids: list[int]) -> int:
    return feed.publish_pending(school_ids)


@shared_task(name="klaspoort.exchange.tasks.publish_feeds")
def publish_feeds() -> int:
    return feed.publish_everything()


# Sends after a notice that was delivered while the feed advanced further, before giving the
# worker back (each is a new notice for the newer sequence).
_MAX_AT_ONCE = 5


@shared_task(name="klaspoort.exchange.tasks.deliver_webhook_notice")
def deliver_webhook_notice(publisher_id: int) -> None:
    """Deliver the publisher's pending webhook notice if due; schedule its next attempt."""
    following = webhooks.deliver(publisher_id)
    for _again in range(_MAX_AT_ONCE):
        if following is None or following > timezone.now():
            break
        following = webhooks.deliver(publisher_id)
    # Run eagerly (the embedded default), a task with an ETA would run at once and retry
    # without any wait: there the retry waits for the next notice or the periodic sweep.
    if following is not None and not deliver_webhook_notice.app.conf.task_always_eager:
        deliver_webhook_notice.apply_async((publisher_id,), eta=following)


@shared_task(name="klaspoort.exchange.tasks.deliver_due_webhook_notices")
def deliver_due_webhook_notices() -> int:
    """Every minute (beat): notices whose attempt is due but whose task was lost (a worker
    died, the broker restarted) are sent now. A notice is claimed before it is sent, so this
    and its own task never send it twice at once."""
    due = webhooks.due_publisher_ids()
    for publisher_id in due:
        deliver_webhook_notice(publisher_id)
    return len(due)
