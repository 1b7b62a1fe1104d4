"""Reads for the LAS push API (issue 14): which coupling a pushed file may go to, and which
imports a LAS may read back."""

from __future__ import annotations

from django.db.models import Q

from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport
from klaspoort.tenancy import for_school


def las_by_slug(slug: str) -> LasSystem | None:
    """A catalogue LAS by its slug, whatever the capitals."""
    return LasSystem.objects.filter(slug__iexact=slug.strip()).first()


def push_coupling(las: LasSystem, brin: str, dependancecode: str) -> RosterCoupling | None:
    """RULE: the school location's coupling that lets this LAS push, or None: switched on by
    the school's coordinator, with this very LAS, which pushes and is in the catalogue. None
    also for a school Klaspoort does not know, so a refusal tells nothing about it."""
    return (RosterCoupling.objects.select_related("school", "las")
            .filter(school__brin=brin, school__dependancecode=dependancecode, las=las,
                    active=True, las__method=LasSystem.Method.PUSH, las__active=True)
            .first())


def pushed_import(las: LasSystem, import_id: int) -> RosterImport | None:
    """RULE: an import a LAS may read: of a school whose coupling with this LAS is switched
    on, arrived by the coupling since the coordinator switched this LAS on (a school's earlier
    LAS, or the school's own uploads, stay out of sight). None otherwise, the same as for an
    id that does not exist."""
    record = (RosterImport.objects.select_related("school")
              .filter(pk=import_id, source=RosterImport.Source.COUPLING).first())
    if record is None or record.school is None:
        return None
    coupling = (for_school(RosterCoupling, record.school)
                .filter(las=las, active=True, las__method=LasSystem.Method.PUSH)
                .filter(Q(switched_at__isnull=True) | Q(switched_at__lte=record.received_at))
                .first())
    return record if coupling is not None else None
