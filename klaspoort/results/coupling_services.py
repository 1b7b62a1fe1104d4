"""A school's *Resultatenkoppelingen* (R7, issue 15): a coordinator adds a coupling with a LAS
that takes results, changes its authorisation key, sends the school grade boundaries or not,
asks once for the results from before the coupling, and removes it.

A coupling is the school's consent: nothing is sent to a LAS without one (seed 000). The LAS's
side is the authorisation key it gave the school, checked by the same rule as the roster
coupling's (roster.coupling_services.clean_key, decision 0036) and sealed at rest under its own
purpose ("results-key"), shown as ••••1234, never logged and never in the audit trail.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.audit import services as audit
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor
from klaspoort.results import delivery, outbox
from klaspoort.results.coupling_selectors import earlier_results
from klaspoort.results.models import Delivery, Result, ResultCoupling
from klaspoort.roster.coupling_services import CouplingRefused, clean_key, store_key
from klaspoort.roster.models import LasSystem
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school

KEY_PURPOSE = "results-key"
# Earlier results are queued in slices, so a school with years of results is never held in
# memory at once.
BACKFILL_SLICE = 2000

__all__ = [
    "KEY_PURPOSE",
    "AlreadySent",
    "CouplingGone",
    "CouplingRefused",
    "add_coupling",
    "change_key",
    "remove_coupling",
    "send_earlier_results",
    "set_send_grade_boundaries",
    "takes_results",
]


class CouplingGone(Exception):
    """The coupling is no longer there (a colleague removed it a moment ago)."""


class AlreadySent(Exception):
    """The earlier results of this coupling were sent before (`backfilled_at`)."""


def takes_results(las: LasSystem) -> bool:
    """RULE: a school can couple only a LAS of the operators' catalogue that is active and has
    a results endpoint (a blank one means it takes no results)."""
    return bool(las.active and las.results_endpoint)


def _locked(coupling: ResultCoupling) -> ResultCoupling:
    # Only the coupling's row: the LAS's catalogue row is shared by every school coupled to it.
    locked = (ResultCoupling.objects.select_for_update(of=("self",))
              .select_related("las", "school")
              .filter(pk=coupling.pk, school_id=coupling.school_id).first())
    if locked is None:
        raise CouplingGone
    return locked


def add_coupling(*, school: School, las: LasSystem, key: str | None,
                 send_grade_boundaries: bool, actor: Actor,
                 request: HttpRequest | None = None) -> ResultCoupling:
    """*Koppeling toevoegen*.

    RULE: only a LAS that takes results (takes_results, read again from the database); one
    coupling per LAS per school (adding it again is refused in Dutch: change its key
    instead); the key passes the roster coupling's key rule and is sealed (purpose
    "results-key"); results received before now are not sent (`since`) unless the coordinator
    asks later. Audited with the LAS and the grade-boundary choice, never the key."""
    fresh = LasSystem.objects.filter(pk=las.pk).first()
    if fresh is None or not takes_results(fresh):
        raise CouplingRefused(_("Choose a pupil administration (LAS) from the list."),
                              field="las")
    plain = clean_key(fresh, key or "")
    duplicate = CouplingRefused(
        _("Your school already has a results coupling with %(las)s. Change its key in the "
          "list instead.") % {"las": fresh.name}, field="las")
    try:
        with transaction.atomic():
            # The school row first, so two coordinators adding the same LAS queue, and the
            # second one gets the Dutch refusal instead of a database error.
            School.objects.select_for_update().filter(pk=school.pk).exists()
            if for_school(ResultCoupling, school).filter(las=fresh).exists():
                raise duplicate
            coupling = ResultCoupling(school=school, las=fresh,
                                      send_grade_boundaries=bool(send_grade_boundaries),
                                      created_by=audit.user_of(actor), since=timezone.now())
            store_key(coupling, plain, purpose=KEY_PURPOSE)
            coupling.save()
            audit.record(actor=actor, school=school, action=AuditAction.RESULTS_COUPLING_ADD,
                         target=fresh.name, after={
                             "las": fresh.name,
                             "send_grade_boundaries": coupling.send_grade_boundaries},
                         request=request)
    except IntegrityError:
        raise duplicate from None
    return coupling


def change_key(*, coupling: ResultCoupling, key: str | None, actor: Actor,
               request: HttpRequest | None = None) -> ResultCoupling:
    """*Sleutel wijzigen*.

    RULE: the new key passes the same key rule and is sealed. The last error belonged to the
    old key, so it is cleared; when the LAS had refused the old key, the results that wait for
    it are due now and sending starts after the commit (no waiting out the backoff). Audited
    without the key (neither old nor new)."""
    with transaction.atomic():
        locked = _locked(coupling)
        plain = clean_key(locked.las, key or "")
        was_refused = locked.state == ResultCoupling.State.REFUSED
        store_key(locked, plain, purpose=KEY_PURPOSE)
        locked.state = ResultCoupling.State.OK
        locked.last_error = {}
        locked.save(update_fields=["sealed_key", "key_last4", "state", "last_error"])
        if was_refused:
            due = delivery.retry_now(locked)
            if due:
                transaction.on_commit(lambda: outbox.start_delivery([locked.pk]))
        audit.record(actor=actor, school=locked.school, action=AuditAction.RESULTS_COUPLING_KEY,
                     target=locked.las.name, request=request)
    return locked


def set_send_grade_boundaries(*, coupling: ResultCoupling, send: bool, actor: Actor,
                              request: HttpRequest | None = None) -> ResultCoupling:
    """*Schoolcijfergrenzen meesturen* on or off.

    RULE: the school decides whether its LAS receives the publishers' school grade boundaries
    with the results; a choice that changes nothing writes nothing. Audited with before and
    after."""
    with transaction.atomic():
        locked = _locked(coupling)
        send = bool(send)
        if locked.send_grade_boundaries == send:
            return locked
        before = {"send_grade_boundaries": locked.send_grade_boundaries}
        locked.send_grade_boundaries = send
        locked.save(update_fields=["send_grade_boundaries"])
        audit.record(actor=actor, school=locked.school,
                     action=AuditAction.RESULTS_COUPLING_SETTINGS, target=locked.las.name,
                     before=before, after={"send_grade_boundaries": send}, request=request)
    return locked


def remove_coupling(*, coupling: ResultCoupling, actor: Actor,
                    request: HttpRequest | None = None) -> int:
    """*Verwijderen*: the school withdraws its consent.

    RULE: from now on nothing more goes to this LAS: the results that still wait for it are
    deleted with the coupling (and its key). What the LAS received stays there. Audited with
    the number of results that were waiting. Returns that number."""
    with transaction.atomic():
        locked = _locked(coupling)
        waiting = locked.deliveries.filter(state=Delivery.State.WAITING).delete()[0]
        name = locked.las.name
        school = locked.school
        locked.delete()
        audit.record(actor=actor, school=school, action=AuditAction.RESULTS_COUPLING_REMOVE,
                     target=name, before={"las": name}, after={"waiting_deleted": waiting},
                     request=request)
    return waiting


def send_earlier_results(*, coupling: ResultCoupling, actor: Actor,
                         request: HttpRequest | None = None) -> int:
    """*Eerdere resultaten versturen*.

    RULE: the school's results received before the coupling go to its LAS only when the
    coordinator asks, and only once (`backfilled_at`; asking again raises AlreadySent). They
    are queued through the outbox like new results. Audited with the number queued, which is
    returned."""
    with transaction.atomic():
        locked = _locked(coupling)
        if locked.backfilled_at is not None:
            raise AlreadySent
        queued = 0
        ids = list(earlier_results(locked).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BACKFILL_SLICE):
            chunk = Result.objects.filter(pk__in=ids[start:start + BACKFILL_SLICE]).only(
                "pk", "school_id", "kind", "received_at", "version")
            queued += outbox.queue_deliveries(chunk, coupling=locked, earlier=True)
        locked.backfilled_at = timezone.now()
        locked.save(update_fields=["backfilled_at"])
        audit.record(actor=actor, school=locked.school, action=AuditAction.RESULTS_BACKFILL,
                     target=locked.las.name, after={"queued": queued}, request=request)
    return queued
