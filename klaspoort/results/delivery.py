"""Sending the outbox (results.outbox) to the schools' pupil tracking systems over UWLR
Leerresultaten (issue 15 item 4, decision 0037).

A sender takes a batch of a coupling's due `Delivery` rows with a lease (their next attempt
moved RESULTS_LEASE_SECONDS ahead, in a short transaction, rows another sender holds skipped),
sends them as one BrengLeerresultaten message with no transaction open, and then marks them
sent, or moves them back with a backoff. A sender that dies between the two leaves the rows to
be taken again when the lease ends: a result may reach the LAS twice, never not at all, and the
LAS replaces it by its stable key (the result's uid).

One sender per coupling at a time (a lock in the cache, ending with the lease): a result's
newer version can then never be overtaken on the wire by an older one that another sender read
earlier. The message always carries a result as it is now; every waiting row of a result up to
the version sent is settled with it, so an older version is not sent after a newer one.

The authorisation key is opened from its seal only to be sent and is never logged; a message
that quotes the LAS has the key taken out (results.uwlr.read_answer).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from klaspoort.checks import is_production
from klaspoort.results import uwlr
from klaspoort.results.grade_services import grade_boundaries_for
from klaspoort.results.models import Delivery, Result, ResultCoupling
from klaspoort.results.outbox import takes
from klaspoort.roster import uwlr as roster_uwlr
from klaspoort.roster.las_fetch import KeyUnusable, opened_key
from klaspoort.schools.selectors import current_school_year

log = logging.getLogger(__name__)

KEY_PURPOSE = "results-key"
# A confirmation is a few hundred bytes; more is not a LAS's answer to this.
MAX_ANSWER_BYTES = 1024 * 1024

MSG_TIMEOUT = gettext_noop(
    "%(las)s did not answer within %(seconds)s seconds. Klaspoort tries to send the results "
    "again later.")
MSG_UNREACHABLE = gettext_noop(
    "Klaspoort could not connect to %(las)s. Klaspoort tries to send the results again later.")
MSG_HTTP_ERROR = gettext_noop(
    "%(las)s answered with HTTP error %(status)s. Klaspoort tries to send the results again "
    "later.")
MSG_REDIRECT = gettext_noop(
    "%(las)s sent Klaspoort to another address. Klaspoort follows no redirects; ask the "
    "helpdesk to check the results address of %(las)s.")
MSG_INSECURE = gettext_noop(
    "The results address of %(las)s does not begin with https://. Klaspoort sends results "
    "only over a secure connection; ask the helpdesk.")


class _Failed(Exception):
    """A batch that did not arrive: `refused` (the LAS said no: the key, the school, the
    message) or not (the LAS could not be reached: timeout, connection, HTTP 5xx)."""

    def __init__(self, refused: bool, message: str, **params: Any) -> None:
        super().__init__(message)
        self.refused = refused
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Summary:
    """What one deliver() did: results confirmed, rows given up, and when rows of the coupling
    are due again after a failure (None: nothing waits on a failure)."""

    sent: int = 0
    failed: int = 0
    following: dt.datetime | None = None
    busy: bool = False


# ---------------------------------------------------------------------------------------------
# One coupling
# ---------------------------------------------------------------------------------------------
def deliver(coupling_id: int) -> Summary:
    """RULE: send a coupling's due results, RESULTS_BATCH_SIZE per message, until none are
    due. Each batch is taken with a lease and then confirmed (rows sent; the coupling *ok*, its
    last delivery and count updated, its error cleared) or failed: the LAS's refusal (the key,
    an unknown school, a fault) makes the coupling *refused* with the LAS's reason in Dutch,
    no answer (timeout, connection, HTTP 5xx, no UWLR answer) makes it *failing*; the rows are
    tried again after RESULTS_BACKOFF_SECONDS * 2^attempts (at most
    RESULTS_BACKOFF_MAX_SECONDS), and a row queued more than RESULTS_GIVE_UP_HOURS ago
    becomes *failed* at its next failure. After a failure the run stops. Only one sender per
    coupling runs at a time; another returns at once (busy), and the sender looks once more
    after it let go, for rows queued while it was finishing."""
    total = Summary()
    for _round in range(3):
        summary = _deliver_once(coupling_id)
        total = Summary(total.sent + summary.sent, total.failed + summary.failed,
                        summary.following, summary.busy)
        if summary.busy or summary.following is not None or not _due(coupling_id):
            break
    return total


def _due(coupling_id: int) -> bool:
    return Delivery.objects.filter(coupling_id=coupling_id, state=Delivery.State.WAITING,
                                   next_attempt_at__lte=timezone.now()).exists()


def _deliver_once(coupling_id: int) -> Summary:
    lock = _SenderLock(coupling_id)
    if not lock.acquire():
        return Summary(busy=True)
    sent = failed = 0
    following: dt.datetime | None = None
    try:
        while True:
            coupling = (ResultCoupling.objects.select_related("las", "school")
                        .filter(pk=coupling_id).first())
            if coupling is None or not coupling.las.results_endpoint:
                break
            ids = _claim(coupling_id)
            if not ids:
                break
            lock.refresh()
            try:
                sent += _send(coupling, ids)
            except _Failed as failure:
                log.info("results to %s for school %s failed: %s", coupling.las.slug,
                         coupling.school.brin6, "refused" if failure.refused else "failing")
                given_up, following = _record_failure(coupling, ids, failure)
                failed += given_up
                break
    finally:
        lock.release()
    return Summary(sent, failed, following)


def _claim(coupling_id: int) -> list[int]:
    """Up to RESULTS_BATCH_SIZE due waiting rows, leased to this sender: their next attempt
    moved RESULTS_LEASE_SECONDS ahead in one short transaction (on PostgreSQL rows another
    sender is taking are skipped, not waited for)."""
    now = timezone.now()
    with transaction.atomic():
        due = (Delivery.objects
               .filter(coupling_id=coupling_id, state=Delivery.State.WAITING,
                       next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk"))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:settings.RESULTS_BATCH_SIZE])
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                next_attempt_at=now + dt.timedelta(seconds=settings.RESULTS_LEASE_SECONDS))
    return ids


def _send(coupling: ResultCoupling, ids: list[int]) -> int:
    """Send the claimed rows' results as one message; returns how many results were confirmed
    (0 when none of them was still to be sent)."""
    rows = list(Delivery.objects.filter(pk__in=ids, state=Delivery.State.WAITING)
                .values_list("pk", "result_id"))
    results = list(Result.objects.filter(pk__in={result_id for _pk, result_id in rows})
                   .select_related("pupil").order_by("pupil_id", "taken_on", "pk"))
    # The LAS's practice flag may have changed since the rows were queued.
    not_taken = {r.pk for r in results if not takes(coupling, r)}
    results = [r for r in results if r.pk not in not_taken]
    if not_taken:
        Delivery.objects.filter(pk__in=[pk for pk, rid in rows if rid in not_taken]).update(
            state=Delivery.State.FAILED)
    if not results:
        return 0
    key = _key(coupling)
    las, school = coupling.las, coupling.school
    body = uwlr.build_request(
        key=key or las.client_code, client_code=las.client_code,
        client_name=las.client_name or "Klaspoort",
        school_year=current_school_year(timezone.localdate()), brin=school.brin,
        dependancecode=school.dependancecode, created=timezone.localtime(),
        takings=_takings(results), tests=_tests(results, coupling.send_grade_boundaries))
    answer = uwlr.read_answer(_post(coupling, body), las=las.name, school=school.brin6,
                              secret=key)
    if not answer.ok:
        raise _Failed(answer.category != uwlr.Category.NOT_UWLR, answer.message,
                      **answer.params)
    _record_success(coupling, {r.pk: r.version for r in results})
    return len(results)


def _takings(results: list[Result]) -> list[uwlr.Taking]:
    by_pupil: dict[int, list[Result]] = defaultdict(list)
    for result in results:
        by_pupil[result.pupil_id].append(result)
    return [uwlr.Taking(pupil_key=each[0].pupil.key, eckid=each[0].pupil.eckid or "",
                        scores=tuple(uwlr.Score(str(r.uid), r.taken_on, r.test_code, r.score)
                                     for r in each))
            for each in by_pupil.values()]


def _tests(results: list[Result], with_boundaries: bool) -> list[uwlr.Test]:
    """One test per test code. RULE: grade boundaries go with a test only when the coupling
    sends them (*Schoolcijfergrenzen meesturen*), never with observations, and only when the
    publisher set them for the product and test type; the scale is the highest maximum score
    among the test's results."""
    first: dict[str, Result] = {}
    top: dict[str, int] = {}
    for result in results:
        first.setdefault(result.test_code, result)
        top[result.test_code] = max(top.get(result.test_code, 0), result.max_score or 0)
    bands: dict[tuple[int, str], list[dict[str, Any]]] = {}
    if with_boundaries:
        wanted = {(r.product_id, r.test_type) for r in first.values()
                  if r.kind != Result.Kind.OBSERVATION and r.test_type}
        if wanted:
            found = grade_boundaries_for({product for product, _type in wanted})
            bands = {key: value for key, value in found.items() if key in wanted}
    tests = []
    for code, result in first.items():
        band = (bands.get((result.product_id, result.test_type), [])
                if result.kind != Result.Kind.OBSERVATION else [])
        tests.append(uwlr.Test(code, result.test_name, uwlr.norms(band, top[code] or None)))
    return tests


def _key(coupling: ResultCoupling) -> str:
    try:
        return opened_key(coupling.sealed_key, coupling.las, purpose=KEY_PURPOSE)
    except KeyUnusable as unusable:
        raise _Failed(True, unusable.message, las=coupling.las.name) from None


def _post(coupling: ResultCoupling, body: bytes) -> bytes:
    """The LAS's answer; _Failed when there is none to read. RULE: an address set by operators
    only, https in production, no redirect followed, at most MAX_ANSWER_BYTES read within the
    LAS's timeout (at most half the lease). A SOAP fault (HTTP 500 in SOAP 1.1) is an answer,
    not a failure to reach."""
    las = coupling.las
    scheme = urlsplit(las.results_endpoint).scheme.lower()
    if scheme != "https" and (is_production() or scheme != "http"):
        raise _Failed(True, MSG_INSECURE, las=las.name)
    # Within half the lease: a batch still on its way when its lease ends would be taken by a
    # second sender, and the two could overtake each other.
    timeout = max(1, min(las.timeout_seconds, settings.RESULTS_LEASE_SECONDS // 2))
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy or .netrc from the environment
            with session.post(las.results_endpoint, data=body, headers=uwlr.request_headers(),
                              timeout=timeout, allow_redirects=False,
                              stream=True) as response:
                data = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
                status = response.status_code
    except requests.Timeout:
        raise _Failed(False, MSG_TIMEOUT, las=las.name, seconds=timeout) from None
    except (requests.RequestException, OSError):
        raise _Failed(False, MSG_UNREACHABLE, las=las.name) from None
    if 300 <= status < 400:
        raise _Failed(False, MSG_REDIRECT, las=las.name)
    if status == 200 or (len(data) <= MAX_ANSWER_BYTES and roster_uwlr.fault_in(data)):
        return data
    if status in (401, 403):
        raise _Failed(True, roster_uwlr.NOT_AUTHORISED, las=las.name)
    raise _Failed(False, MSG_HTTP_ERROR, las=las.name, status=status)


def _record_success(coupling: ResultCoupling, versions: dict[int, int]) -> None:
    """The results confirmed: every waiting row of them (this batch's, and any other up to
    the version just sent) is sent; the coupling is *ok*."""
    now = timezone.now()
    with transaction.atomic():
        pending = Delivery.objects.filter(coupling_id=coupling.pk,
                                          state=Delivery.State.WAITING,
                                          result_id__in=list(versions))
        done = [pk for pk, result_id, version in pending.values_list(
            "pk", "result_id", "result_version") if version <= versions[result_id]]
        Delivery.objects.filter(pk__in=done).update(state=Delivery.State.SENT, sent_at=now)
        ResultCoupling.objects.filter(pk=coupling.pk).update(
            state=ResultCoupling.State.OK, last_error={}, last_delivery_at=now,
            delivered_count=F("delivered_count") + len(versions))


def _record_failure(coupling: ResultCoupling, ids: list[int], failure: _Failed
                    ) -> tuple[int, dt.datetime | None]:
    """The batch back to waiting with a backoff, or *failed* past the give-up time; the
    coupling *refused* or *failing* with the message. Returns the rows given up and when the
    rows are due again."""
    now = timezone.now()
    give_up_before = now - dt.timedelta(hours=settings.RESULTS_GIVE_UP_HOURS)
    with transaction.atomic():
        rows = list(Delivery.objects.filter(pk__in=ids, state=Delivery.State.WAITING)
                    .values_list("pk", "attempts", "created_at"))
        given_up = [pk for pk, _attempts, created in rows if created < give_up_before]
        Delivery.objects.filter(pk__in=given_up).update(
            state=Delivery.State.FAILED, attempts=F("attempts") + 1)
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for pk, attempts, created in rows:
            if created >= give_up_before:
                by_attempts[attempts].append(pk)
        following: dt.datetime | None = None
        for attempts, pks in by_attempts.items():
            due = now + backoff(attempts)
            Delivery.objects.filter(pk__in=pks).update(next_attempt_at=due,
                                                       attempts=F("attempts") + 1)
            following = due if following is None else min(following, due)
        ResultCoupling.objects.filter(pk=coupling.pk).update(
            state=(ResultCoupling.State.REFUSED if failure.refused
                   else ResultCoupling.State.FAILING),
            last_error={"message": failure.message, "params": failure.params})
    return len(given_up), following


def backoff(attempts: int) -> dt.timedelta:
    """RULE: the wait before the next attempt after `attempts` earlier failed ones:
    RESULTS_BACKOFF_SECONDS * 2^attempts, at most RESULTS_BACKOFF_MAX_SECONDS."""
    seconds = settings.RESULTS_BACKOFF_SECONDS * 2 ** min(attempts, 30)
    return dt.timedelta(seconds=min(seconds, settings.RESULTS_BACKOFF_MAX_SECONDS))


class _SenderLock:
    """At most one sender per coupling: an entry in the shared cache (Redis in production)
    that ends with the lease, so a sender that died holds nobody up longer than its rows."""

    def __init__(self, coupling_id: int) -> None:
        self.name = f"results:sender:{coupling_id}"
        self.token = secrets.token_hex(8)

    def acquire(self) -> bool:
        return bool(cache.add(self.name, self.token, settings.RESULTS_LEASE_SECONDS))

    def refresh(self) -> None:
        if cache.get(self.name) == self.token:
            cache.set(self.name, self.token, settings.RESULTS_LEASE_SECONDS)

    def release(self) -> None:
        if cache.get(self.name) == self.token:
            cache.delete(self.name)


# ---------------------------------------------------------------------------------------------
# Every coupling
# ---------------------------------------------------------------------------------------------
def due_coupling_ids(now: dt.datetime | None = None) -> list[int]:
    """Couplings with rows due: their task was lost, a worker died, or a backoff ended."""
    due = Delivery.objects.filter(coupling=OuterRef("pk"), state=Delivery.State.WAITING,
                                  next_attempt_at__lte=now or timezone.now())
    return list(ResultCoupling.objects.filter(Exists(due)).exclude(las__results_endpoint="")
                .order_by("pk").values_list("pk", flat=True))


def deliver_due(coupling_ids: Iterable[int] | None = None) -> dict[str, int]:
    """RULE: every coupling with due rows is delivered (deliver), one after the other here;
    one coupling's failure never stops the others. Returns the counts."""
    counts = {"couplings": 0, "sent": 0, "failed": 0}
    for coupling_id in (due_coupling_ids() if coupling_ids is None else coupling_ids):
        try:
            summary = deliver(coupling_id)
        except Exception as exc:
            # Only the type: a database error's text can quote row values.
            log.error("results delivery of coupling %s failed: %s", coupling_id,
                      type(exc).__name__)
            continue
        counts["couplings"] += 1
        counts["sent"] += summary.sent
        counts["failed"] += summary.failed
    return counts


def retry_now(coupling: ResultCoupling) -> int:
    """RULE: after the coordinator changed the key (or the LAS was mended), rows waiting on a
    backoff are due at once instead of after it. Returns the rows made due."""
    return Delivery.objects.filter(coupling=coupling, state=Delivery.State.WAITING,
                                   attempts__gt=0, next_attempt_at__gt=timezone.now()
                                   ).update(next_attempt_at=timezone.now())
