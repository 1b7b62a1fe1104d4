"""The outbox between results and the schools' pupil tracking systems (decision 0037).

A result becomes a `Delivery` row for every coupling of its school in the same transaction
that stores the result, so no result is lost between the database and the broker; the task
that sends them is started after the commit, and a periodic sweep picks up whatever a lost
task or a killed worker left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from klaspoort.results.models import Delivery, Result, ResultCoupling


def takes(coupling: ResultCoupling, result: Result) -> bool:
    """RULE: a coupled LAS receives tests and observations; practice results only when the
    operators' catalogue marks it as taking them (seed 003: Bingel sends only practice results
    to Momento)."""
    if not coupling.las.results_endpoint:
        return False
    return result.kind != Result.Kind.PRACTICE or coupling.las.takes_practice_results


def queue_deliveries(results: Iterable[Result], *, coupling: ResultCoupling | None = None,
                     earlier: bool = False) -> int:
    """RULE: nothing is sent without a coupling. Each result (its current version) is queued
    for every coupling of its school that takes its kind, or only for `coupling`. Results
    received before a coupling existed are queued only when `earlier` (the coordinator asked
    for them). Call inside the transaction that stored the results. Returns the rows queued."""
    by_school: dict[int, list[Result]] = defaultdict(list)
    for result in results:
        by_school[result.school_id].append(result)
    if not by_school:
        return 0
    couplings = (ResultCoupling.objects.filter(pk=coupling.pk) if coupling is not None
                 else ResultCoupling.objects.filter(school_id__in=list(by_school)))
    now = timezone.now()
    rows: list[Delivery] = []
    started: set[int] = set()
    for each in couplings.select_related("las"):
        for result in by_school.get(each.school_id, ()):
            if not takes(each, result):
                continue
            if not earlier and result.received_at < each.since:
                continue
            rows.append(Delivery(coupling=each, result=result, result_version=result.version,
                                 next_attempt_at=now))
            started.add(each.pk)
    Delivery.objects.bulk_create(rows, batch_size=1000)
    if started:
        ids = sorted(started)
        transaction.on_commit(lambda: start_delivery(ids))
    return len(rows)


def start_delivery(coupling_ids: list[int]) -> None:
    """Start the sending task of each coupling (after the commit that queued its rows)."""
    from klaspoort.results import tasks

    for coupling_id in coupling_ids:
        tasks.deliver_coupling.delay(coupling_id)
