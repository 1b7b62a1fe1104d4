"""Celery tasks of the publisher feed: thin wrappers around exchange.feed."""

from celery import shared_task

from klaspoort.exchange import feed


@shared_task(name="klaspoort.exchange.tasks.publish_feeds")
def publish_feeds() -> int:
    return feed.publish_everything()
