"""Reads of the outbox for the pages: how many results each coupling sent, has waiting, and
gave up on."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from klaspoort.results.models import Delivery

STATES = {Delivery.State.SENT: "sent", Delivery.State.WAITING: "waiting",
          Delivery.State.FAILED: "failed"}


def delivery_counts(coupling_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per coupling id: the outbox rows sent, waiting (also those a worker holds now) and
    failed (given up after RESULTS_GIVE_UP_HOURS). Every id asked for is in the answer, with
    zeros when it has none. One query."""
    ids = list(coupling_ids)
    counts = {pk: {"sent": 0, "waiting": 0, "failed": 0} for pk in ids}
    if not ids:
        return counts
    rows = (Delivery.objects.filter(coupling_id__in=ids).values("coupling_id", "state")
            .annotate(n=Count("pk")).order_by())
    for row in rows:
        name = STATES.get(row["state"])
        if name is not None:
            counts[row["coupling_id"]][name] = row["n"]
    return counts
