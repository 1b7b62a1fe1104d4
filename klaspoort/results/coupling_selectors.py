"""Reads for the *Resultatenkoppelingen* page: the LAS a school may couple for results and the
status of each of its couplings (R7, issue 15). Every school-scoped read goes through
tenancy.for_school."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext

from klaspoort.results.delivery_selectors import delivery_counts
from klaspoort.results.models import Result, ResultCoupling
from klaspoort.roster.coupling_selectors import error_text, masked_key
from klaspoort.roster.models import LasSystem
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school


def offered_las(school: School) -> QuerySet[LasSystem]:
    """The LAS the school may still add: active entries of the catalogue with a results
    endpoint that the school has no results coupling with yet."""
    coupled = for_school(ResultCoupling, school).values("las_id")
    return (LasSystem.objects.filter(active=True).exclude(results_endpoint="")
            .exclude(pk__in=coupled).order_by("name"))


def couplings_of(school: School) -> QuerySet[ResultCoupling]:
    """The school's results couplings, by the LAS's name."""
    return (for_school(ResultCoupling, school).select_related("las", "created_by")
            .order_by("las__name", "pk"))


def earlier_results(coupling: ResultCoupling) -> QuerySet[Result]:
    """The school's results received before the coupling that its LAS takes (practice
    results only for a LAS that takes them)."""
    results = for_school(Result, coupling.school_id).filter(received_at__lt=coupling.since)
    if not coupling.las.takes_practice_results:
        results = results.exclude(kind=Result.Kind.PRACTICE)
    return results


@dataclass(frozen=True)
class CouplingStatus:
    """One results coupling as the page shows it."""

    coupling: ResultCoupling
    las_name: str
    masked_key: str
    send_grade_boundaries: bool
    created_at: datetime.datetime
    created_by: str
    state: str
    state_label: str
    # The last failure in the reader's language ("" when none).
    reason: str
    last_delivery_at: datetime.datetime | None
    sent: int
    waiting: int
    failed: int
    # Results from before the coupling the coordinator may still ask for (0 once asked).
    earlier: int
    backfilled_at: datetime.datetime | None
    # The operators took the LAS out of the catalogue or stopped its results endpoint.
    las_withdrawn: bool

    @property
    def pk(self) -> int:
        return self.coupling.pk


def failure_reason(coupling: ResultCoupling) -> str:
    """RULE: the last failure of the delivery in the reader's language, from the stored
    {"message": msgid, "params": {...}}; a malformed one reads as a general sentence; none
    while the coupling delivers."""
    if coupling.state == ResultCoupling.State.OK:
        return ""
    return error_text(coupling.last_error, general=gettext(
        "Sending the results failed. Klaspoort tries again later."))


def coupling_statuses(school: School) -> list[CouplingStatus]:
    """The status of every results coupling of the school: LAS, masked key, last delivery,
    results sent, waiting and failed, state with its reason, and how many earlier results
    could still be sent."""
    couplings = list(couplings_of(school))
    counts = delivery_counts([coupling.pk for coupling in couplings])
    labels = dict(ResultCoupling.State.choices)
    statuses = []
    for coupling in couplings:
        count = counts.get(coupling.pk, {})
        earlier = 0 if coupling.backfilled_at else earlier_results(coupling).count()
        statuses.append(CouplingStatus(
            coupling=coupling, las_name=coupling.las.name, masked_key=masked_key(coupling),
            send_grade_boundaries=coupling.send_grade_boundaries,
            created_at=coupling.created_at,
            created_by=str(getattr(coupling.created_by, "email", "") or ""),
            state=coupling.state, state_label=str(labels.get(coupling.state, "")),
            reason=failure_reason(coupling), last_delivery_at=coupling.last_delivery_at,
            sent=count.get("sent", 0), waiting=count.get("waiting", 0),
            failed=count.get("failed", 0), earlier=earlier,
            backfilled_at=coupling.backfilled_at,
            las_withdrawn=not (coupling.las.active and coupling.las.results_endpoint)))
    return statuses
