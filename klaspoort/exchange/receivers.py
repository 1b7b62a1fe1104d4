"""Whatever may change what a publisher sees of a school has the publishers told after commit
(exchange.feed.publish_after_commit): the roster, licence links, contracts, consents. Model
signals, so a write path added later in a lower app cannot forget the feed; the roster's bulk
writes announce themselves with roster_applied."""

from __future__ import annotations

import logging
from typing import Any

from klaspoort.exchange import feed, tasks, webhooks
from klaspoort.exchange.feed import Touched, publish_after_commit
from klaspoort.exchange.signals import feed_advanced as feed_advanced  # for apps.ready
from klaspoort.licences.models import Contract

logger = logging.getLogger(__name__)


def roster_applied(sender: Any, *, school: Any, changed: bool = True,
                   group_ids: set[int] | None = None, user_ids: set[int] | None = None,
                   **kwargs: Any) -> None:
    # A night's file identical to the roster changes nothing a publisher sees; one that
    # changed five pupils has those five (and their groups) compared, not the whole school.
    if not changed:
        return
    touched = (Touched(frozenset(group_ids), frozenset(user_ids))
               if group_ids is not None and user_ids is not None else None)
    publish_after_commit(school.pk, touched)


def nightly_processing_started(sender: Any, **kwargs: Any) -> None:
    feed.hold_comparisons()


def nightly_processing_finished(sender: Any, *, workers: int = 1, **kwargs: Any) -> None:
    feed.release_comparisons(workers)


def school_row_changed(sender: Any, *, instance: Any, **kwargs: Any) -> None:
    """A licence link, contract or consent: its school's publishers are compared again."""
    if kwargs.get("raw"):
        return
    publish_after_commit(getattr(instance, "school_id", None))


def link_changed(sender: Any, *, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    # By id: in a cascade the contract itself may be gone already (its own signal tells).
    publish_after_commit(Contract.objects.filter(pk=instance.contract_id).values_list(
        "school_id", flat=True).first())


def school_saved(sender: Any, *, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    publish_after_commit(instance.pk)


# --- webhook notices --------------------------------------------------------------------------


def queue_webhook_notice(sender: Any, *, publisher_id: int, last_sequence: int,
                         **kwargs: Any) -> None:
    """The feed advanced: the publisher's webhook notice is queued or updated (coalesced).
    Never lets a webhook break the change that advanced the feed."""
    try:
        if webhooks.feed_advanced(publisher_id, last_sequence):
            tasks.deliver_webhook_notice.delay(publisher_id)
    except Exception:
        logger.exception("webhook notice for publisher %s could not be queued", publisher_id)
