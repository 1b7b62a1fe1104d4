"""Reads for the *Automatische koppeling* page: the LAS catalogue a school chooses from and the
school's coupling as its coordinators see it (R2.3). Every school-scoped read goes through
tenancy.for_school."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from klaspoort.roster.coupling_services import HoldsKey, key_needed
from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school

MASK = "\N{BULLET}" * 4
NIGHTLY_ENTRY = "nightly-roster-run"
# A stored error is written by Klaspoort's own fetch code; anything longer is not one of its
# messages and is not shown.
MAX_ERROR_LENGTH = 1000


def offered_las() -> QuerySet[LasSystem]:
    """The LAS a school may choose: the active entries of the operators' catalogue."""
    return LasSystem.objects.filter(active=True).order_by("name")


def coupling_of(school: School) -> RosterCoupling | None:
    """The school's coupling (on or off), or None when it never had one."""
    return (for_school(RosterCoupling, school)
            .select_related("las", "switched_by", "last_import").first())


def masked_key(coupling: HoldsKey) -> str:
    """The key as the page shows it: "••••1234"; empty when none is stored."""
    return f"{MASK}{coupling.key_last4}" if coupling.sealed_key and coupling.key_last4 else ""


def nightly_time() -> datetime.time:
    """When the nightly run starts: the hour and minute of its Celery beat entry
    (KLASPOORT_NIGHTLY_HOUR, settings.CELERY_BEAT_SCHEDULE)."""
    entry = getattr(settings, "CELERY_BEAT_SCHEDULE", {}).get(NIGHTLY_ENTRY, {})
    schedule = entry.get("schedule") if isinstance(entry, dict) else None
    hours = getattr(schedule, "hour", None)
    minutes = getattr(schedule, "minute", None)
    hour = min(hours) if hours else 2
    minute = min(minutes) if minutes else 0
    return datetime.time(hour, minute)


def next_nightly_run(now: datetime.datetime | None = None) -> datetime.datetime:
    """The next start of the nightly run after `now`, in the project's time zone (the one
    Celery beat uses)."""
    local = timezone.localtime(now or timezone.now())
    at = nightly_time()
    day = local.date()
    candidate = datetime.datetime.combine(day, at, tzinfo=local.tzinfo)
    if candidate <= local:
        candidate = datetime.datetime.combine(day + datetime.timedelta(days=1), at,
                                              tzinfo=local.tzinfo)
    return timezone.localtime(candidate)


def error_text(value: Any, *, general: str = "") -> str:
    """RULE: the last error of a fetch (or of another coupling's work) in the reader's
    language. It is stored as {"message": <English msgid>, "params": {...}}; it is shown as
    gettext(message) % params. Anything else (not such a dict, a message that does not fit its
    parameters) is shown as a general sentence (`general`, translated already, or the fetch's)
    rather than breaking the page; no error is an empty string."""
    if not value:
        return ""
    general = general or gettext(
        "Fetching the user data failed. Klaspoort tries again next night.")
    if not isinstance(value, dict):
        return general
    message, params = value.get("message"), value.get("params") or {}
    if (not isinstance(message, str) or not message.strip() or len(message) > MAX_ERROR_LENGTH
            or not isinstance(params, dict)):
        return general
    text = gettext(message)
    try:
        text = text % params
    except (KeyError, TypeError, ValueError, IndexError):
        return general
    return text


@dataclass(frozen=True)
class CouplingStatus:
    """The school's coupling as the page shows it."""

    las: LasSystem
    active: bool
    # The LAS sends the roster itself (push) rather than Klaspoort fetching it (pull).
    pushes: bool
    key_needed: bool
    masked_key: str
    switched_at: datetime.datetime | None
    switched_by: str
    last_fetch_at: datetime.datetime | None
    last_result: str
    last_result_label: str
    last_error: str
    failures_in_a_row: int
    # The import the last fetch made (this school's only) and its counts once processed.
    last_import: RosterImport | None
    counts: dict[str, Any] | None
    # The next night the coupling runs (pull and on only).
    next_fetch_at: datetime.datetime | None
    # The operators took the LAS out of the catalogue.
    las_withdrawn: bool


def coupling_status(school: School, *, now: datetime.datetime | None = None
                    ) -> CouplingStatus | None:
    """The status of the school's coupling: its LAS, on or off, the masked key, the last fetch
    with its result, counts and import, the next fetch, the last error in words. None when
    the school never switched a coupling on."""
    coupling = coupling_of(school)
    if coupling is None:
        return None
    las = coupling.las
    last_import = coupling.last_import
    if last_import is not None and last_import.school_id != school.pk:
        last_import = None  # never another school's import, whatever the row says
    counts = last_import.counts if last_import is not None and last_import.counts else None
    pushes = las.method == LasSystem.Method.PUSH
    result_labels = dict(RosterCoupling.Result.choices)
    return CouplingStatus(
        las=las, active=coupling.active, pushes=pushes, key_needed=key_needed(las),
        masked_key=masked_key(coupling),
        switched_at=coupling.switched_at,
        switched_by=str(getattr(coupling.switched_by, "email", "") or ""),
        last_fetch_at=coupling.last_fetch_at,
        last_result=coupling.last_result,
        last_result_label=str(result_labels.get(coupling.last_result, "")),
        last_error=error_text(coupling.last_error),
        failures_in_a_row=coupling.failures_in_a_row,
        last_import=last_import, counts=counts if isinstance(counts, dict) else None,
        next_fetch_at=next_nightly_run(now) if coupling.active and not pushes else None,
        las_withdrawn=not las.active,
    )
