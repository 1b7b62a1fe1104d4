"""Celery tasks of the results app: thin, they call the delivery functions."""

from __future__ import annotations

from celery import shared_task


@shared_task
def deliver_coupling(coupling_id: int) -> None:
    """Send the waiting results of one coupling (results.delivery)."""
    # Filled in by the delivery work (issue 15 item 4).
    return None
