"""What the coordinator's *Resultatenkoppelingen* page shows of the outbox (results.delivery)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from klaspoort.results.models import Delivery


def delivery_counts(coupling_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per coupling: how many results were sent, are waiting, and failed (given up after
    RESULTS_GIVE_UP_HOURS). A result counts once per state however many versions of it were
    queued; every id asked for is in the answer, with zeros when nothing was queued."""
    ids = list(coupling_ids)
    counts = {pk: {"sent": 0, "waiting": 0, "failed": 0} for pk in ids}
    rows = (Delivery.objects.filter(coupling_id__in=ids)
            .values("coupling_id", "state")
            .annotate(results=Count("result_id", distinct=True))
            .order_by())
    for row in rows:
        counts[row["coupling_id"]][row["state"]] = row["results"]
    return counts
