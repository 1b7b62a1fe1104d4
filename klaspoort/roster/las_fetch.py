"""Fetching a school's roster from its LAS (issue 14): the nightly pull of an automatic coupling.

Klaspoort calls the LAS's UWLR Leerlinggegevens endpoint (roster.uwlr writes the request and
reads the kind of answer) and hands a good answer to the same import as an upload
(services.receive_roster_file with the coupling's school: the file must be that school's, it
gets the same warnings and preview, and one that would empty the school is held). The nightly
run then processes it like any other waiting import.

Where the bytes go: an address set by operators only (never by a school), https only in
production, no redirect followed, at most an upload's maximum read. The authorisation key is
opened from its seal only to be sent, is never logged, and is taken out of any LAS text a
stored message quotes.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext, gettext_noop

from klaspoort.checks import is_production
from klaspoort.mail import queue_mail
from klaspoort.roster import selectors, uwlr
from klaspoort.roster.coupling_selectors import error_text
from klaspoort.roster.edexml import max_bytes
from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport
from klaspoort.roster.secrets import open_text
from klaspoort.roster.services import receive_roster_file
from klaspoort.schools.models import School
from klaspoort.schools.selectors import current_school_year

log = logging.getLogger(__name__)

KEY_PURPOSE = "las-key"
# The third failed night in a row mails the coordinators (once: the fourth night does not).
FAILURES_BEFORE_MAIL = 3

# What a fetch can fail on besides the answer's own categories (uwlr.Category).
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
HTTP_ERROR = "http_error"
TOO_LARGE = "too_large"
REDIRECT = "redirect"
INSECURE = "insecure"
NO_KEY = "no_key"
IMPORT_FAILED = "import_failed"

MSG_TIMEOUT = gettext_noop(
    "%(las)s did not answer within %(seconds)s seconds (%(attempts)s attempts). Klaspoort "
    "tries again next night.")
MSG_UNREACHABLE = gettext_noop(
    "Klaspoort could not connect to %(las)s (%(attempts)s attempts). Klaspoort tries again "
    "next night.")
MSG_HTTP_ERROR = gettext_noop(
    "%(las)s answered with HTTP error %(status)s. Klaspoort tries again next night.")
MSG_TOO_LARGE = gettext_noop(
    "The answer of %(las)s is larger than %(megabytes)s MB, the most Klaspoort reads. "
    "Nothing has been changed.")
MSG_REDIRECT = gettext_noop(
    "%(las)s sent Klaspoort to another address. Klaspoort follows no redirects; ask the "
    "helpdesk to check the address of %(las)s.")
MSG_INSECURE = gettext_noop(
    "The address of %(las)s does not begin with https://. Klaspoort fetches user data only "
    "over a secure connection; ask the helpdesk.")
MSG_NO_KEY = gettext_noop(
    "There is no authorisation key for %(las)s. Enter the key that %(las)s gave your "
    "school.")
MSG_KEY_UNREADABLE = gettext_noop(
    "The stored authorisation key for %(las)s can no longer be read. Enter the key again.")
MSG_IMPORT_FAILED = gettext_noop(
    "The user data from %(las)s could not be imported. The history of the imports shows "
    "why.")

FAILING_SUBJECT = gettext_noop("Klaspoort could not fetch the user data from %(las)s")
FAILING_TEXT = gettext_noop(
    "Hello,\n\nFor three nights in a row Klaspoort could not fetch the user data of "
    "%(school)s from %(las)s through the automatic coupling. The last message:\n\n"
    "%(error)s\n\nUntil this is solved, changes in %(las)s do not reach Klaspoort. You see "
    "the status of the coupling here:\n%(url)s\n\nKlaspoort")
HELD_SUBJECT = gettext_noop("Klaspoort is holding the user data from %(las)s")
HELD_TEXT = gettext_noop(
    "Hello,\n\nThe user data that Klaspoort fetched from %(las)s for %(school)s would "
    "deactivate a large part of the school's groups, pupils or teachers. Klaspoort does "
    "not process them until you confirm. Check what would change and choose Toch verwerken "
    "or Annuleren:\n%(url)s\n\nKlaspoort")


@dataclass(frozen=True)
class FetchResult:
    """One coupling's night: `ok`, the import it made (if any), and the failure's category."""

    coupling_id: int
    ok: bool
    import_id: int | None = None
    category: str = ""
    import_status: str = ""


class _Failed(Exception):
    def __init__(self, category: str, message: str, **params: Any) -> None:
        super().__init__(category)
        self.category = category
        self.message = message
        self.params = params


# ---------------------------------------------------------------------------------------------
# One coupling
# ---------------------------------------------------------------------------------------------
def fetchable_couplings() -> Any:
    """Couplings the night fetches: switched on, of an active LAS that Klaspoort pulls from."""
    return RosterCoupling.objects.filter(
        active=True, las__active=True, las__method=LasSystem.Method.PULL,
    ).exclude(las__endpoint="")


def fetch_coupling(coupling: RosterCoupling) -> FetchResult | None:
    """Fetch one school's roster from its LAS and receive it as an import.

    Rules: only a coupling that is switched on, of an active pull LAS with an address, is
    fetched (else None, and nothing is sent or changed); the address must be https in
    production; no redirect is followed and an answer larger than an upload is refused; a
    timeout, a refused connection or a 5xx answer that is no SOAP fault is tried again
    (settings.LAS_FETCH_ATTEMPTS, backoff LAS_FETCH_BACKOFF_SECONDS doubling); a good answer
    becomes an import of source *automatische koppeling* through receive_roster_file (held when
    it would empty the school, and then the coordinators are mailed). The coupling records the
    fetch: its time, result, import, the failure as a translatable message, and the failures in
    a row; the third failure in a row mails the coordinators, once.
    """
    coupling = RosterCoupling.objects.select_related("las", "school").get(pk=coupling.pk)
    las, school = coupling.las, coupling.school
    if not (coupling.active and las.active and las.method == LasSystem.Method.PULL
            and las.endpoint):
        return None
    school_year = current_school_year(timezone.localdate())
    key = ""
    try:
        key = _key(coupling)
        body = uwlr.build_request(
            key=key or las.client_code, client_code=las.client_code,
            client_name=las.client_name or "Klaspoort", school_year=school_year,
            brin=school.brin, dependancecode=school.dependancecode)
        data = _post(las, body)
        answer = uwlr.read_answer(data, las=las.name, school=school.brin6,
                                  school_year=school_year, secret=key)
        if not answer.ok:
            raise _Failed(answer.category, answer.message, **answer.params)
        record = None
        if answer.category == uwlr.Category.ROSTER:
            record = _receive(data, coupling)
    except _Failed as failure:
        log.info("LAS fetch for school %s from %s failed: %s", school.brin6, las.slug,
                 failure.category)
        return _record_failure(coupling, failure)
    log.info("LAS fetch for school %s from %s: %s", school.brin6, las.slug,
             record.status if record is not None else "unchanged")
    return _record_success(coupling, record)


class KeyUnusable(Exception):
    """A coupling's key cannot be used; `message` is a msgid with the parameter `las`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def opened_key(sealed_key: str, las: LasSystem, *, purpose: str = KEY_PURPOSE) -> str:
    """RULE: a coupling's authorisation key is opened for one request and never kept: "" for a
    LAS that needs none; KeyUnusable(MSG_NO_KEY) when one is needed and none is stored, and
    KeyUnusable(MSG_KEY_UNREADABLE) when it no longer opens (the secrets keys changed). The
    roster fetch and the results delivery (purpose "results-key") both open keys here."""
    if not sealed_key:
        if las.needs_key:
            raise KeyUnusable(MSG_NO_KEY)
        return ""
    try:
        return open_text(purpose, sealed_key)
    except ValueError:
        raise KeyUnusable(MSG_KEY_UNREADABLE) from None


def _key(coupling: RosterCoupling) -> str:
    try:
        return opened_key(coupling.sealed_key, coupling.las)
    except KeyUnusable as unusable:
        raise _Failed(NO_KEY, unusable.message, las=coupling.las.name) from None


def _post(las: LasSystem, body: bytes) -> bytes:
    """The LAS's answer to the request, after the retries; _Failed when there is none."""
    if urlsplit(las.endpoint).scheme.lower() != "https" and (
            is_production() or urlsplit(las.endpoint).scheme.lower() != "http"):
        raise _Failed(INSECURE, MSG_INSECURE, las=las.name)
    attempts = max(1, int(settings.LAS_FETCH_ATTEMPTS))
    backoff = float(settings.LAS_FETCH_BACKOFF_SECONDS)
    failure = _Failed(UNREACHABLE, MSG_UNREACHABLE, las=las.name, attempts=attempts)
    for attempt in range(attempts):
        if attempt and backoff:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            status, data = _exchange(las, body)
        except requests.Timeout:
            failure = _Failed(TIMEOUT, MSG_TIMEOUT, las=las.name, seconds=las.timeout_seconds,
                              attempts=attempts)
            continue
        except requests.RequestException:
            failure = _Failed(UNREACHABLE, MSG_UNREACHABLE, las=las.name, attempts=attempts)
            continue
        if 300 <= status < 400:
            raise _Failed(REDIRECT, MSG_REDIRECT, las=las.name)
        if status == 200 or uwlr.fault_in(data):
            # A SOAP fault comes with HTTP 500 (SOAP 1.1): it is the LAS's final word.
            return data
        if status in (401, 403):
            raise _Failed(uwlr.Category.NOT_AUTHORISED, uwlr.NOT_AUTHORISED, las=las.name)
        failure = _Failed(HTTP_ERROR, MSG_HTTP_ERROR, las=las.name, status=status)
        if status < 500:
            break
    raise failure


def _exchange(las: LasSystem, body: bytes) -> tuple[int, bytes]:
    """One HTTP exchange: the status and at most max_bytes() of the answer."""
    limit = max_bytes()
    # requests' timeout bounds each wait for bytes; the deadline bounds the whole answer, so a
    # LAS that trickles cannot hold a worker all night.
    deadline = time.monotonic() + las.timeout_seconds
    with requests.post(las.endpoint, data=body, headers=uwlr.request_headers(),
                       timeout=las.timeout_seconds, allow_redirects=False, stream=True) as resp:
        declared = resp.headers.get("Content-Length", "")
        too_large = _Failed(TOO_LARGE, MSG_TOO_LARGE, las=las.name,
                            megabytes=max(1, limit // 2 ** 20))
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(chunk_size=65536):
            if time.monotonic() > deadline:
                raise requests.Timeout
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return resp.status_code, b"".join(chunks)


def _receive(data: bytes, coupling: RosterCoupling) -> RosterImport:
    """The answer as an import of the coupling's school, read like an upload (messages stored
    in Dutch, as for every import); a held one mails the coordinators."""
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        record = receive_roster_file(
            data, source=RosterImport.Source.COUPLING, school=coupling.school,
            filename=f"{coupling.las.name} (UWLR)")
        if record.status == RosterImport.Status.HELD:
            tell_coordinators_held(coupling, record)
    if record.status == RosterImport.Status.FAILED:
        failure = _Failed(IMPORT_FAILED, MSG_IMPORT_FAILED, las=coupling.las.name)
        failure.import_id = record.pk  # type: ignore[attr-defined]
        raise failure
    return record


def _record_success(coupling: RosterCoupling, record: RosterImport | None) -> FetchResult:
    with transaction.atomic():
        locked = RosterCoupling.objects.select_for_update().get(pk=coupling.pk)
        locked.last_fetch_at = timezone.now()
        locked.last_result = RosterCoupling.Result.OK
        locked.last_error = {}
        locked.failures_in_a_row = 0
        fields = ["last_fetch_at", "last_result", "last_error", "failures_in_a_row"]
        if record is not None:
            locked.last_import = record
            fields.append("last_import")
        locked.save(update_fields=fields)
    if record is None:
        return FetchResult(coupling.pk, True)
    return FetchResult(coupling.pk, True, record.pk, import_status=record.status)


def _record_failure(coupling: RosterCoupling, failure: _Failed) -> FetchResult:
    import_id = getattr(failure, "import_id", None)
    with transaction.atomic():
        locked = RosterCoupling.objects.select_for_update().select_related(
            "las", "school").get(pk=coupling.pk)
        locked.last_fetch_at = timezone.now()
        locked.last_result = RosterCoupling.Result.FAILED
        locked.last_error = {"category": str(failure.category), "message": failure.message,
                             "params": failure.params}
        locked.failures_in_a_row += 1
        fields = ["last_fetch_at", "last_result", "last_error", "failures_in_a_row"]
        if import_id is not None:
            locked.last_import_id = import_id
            fields.append("last_import")
        locked.save(update_fields=fields)
        if locked.failures_in_a_row == FAILURES_BEFORE_MAIL:
            _mail_coordinators(locked.school, *_failing_mail(locked))
    return FetchResult(coupling.pk, False, import_id, str(failure.category))


# ---------------------------------------------------------------------------------------------
# Mail to the coordinators (Dutch, like every message Klaspoort sends)
# ---------------------------------------------------------------------------------------------
def _imports_url(school: School) -> str:
    return settings.SITE_URL + reverse("roster:imports", kwargs={"brin6": school.brin6})


def _failing_mail(coupling: RosterCoupling) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext(FAILING_SUBJECT) % {"las": coupling.las.name}
        text = gettext(FAILING_TEXT) % {
            "school": coupling.school.display_name, "las": coupling.las.name,
            "error": error_text(coupling.last_error), "url": _imports_url(coupling.school)}
    return subject, text


def _held_mail(coupling: RosterCoupling, record: RosterImport) -> tuple[str, str]:
    school = coupling.school
    url = settings.SITE_URL + reverse("roster:import", kwargs={"brin6": school.brin6,
                                                              "import_id": record.pk})
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext(HELD_SUBJECT) % {"las": coupling.las.name}
        text = gettext(HELD_TEXT) % {"school": school.display_name, "las": coupling.las.name,
                                     "url": url}
    return subject, text


def tell_coordinators_held(coupling: RosterCoupling, record: RosterImport) -> None:
    """RULE: a roster that arrived by the coupling (fetched or pushed) and is held because it
    would empty a large part of the school is mailed to every coordinator of the school, with
    the link where they choose *Toch verwerken* or *Annuleren*: nobody is watching the page
    at night. Sent after commit."""
    _mail_coordinators(coupling.school, *_held_mail(coupling, record))


def _mail_coordinators(school: School, subject: str, text: str) -> None:
    """One message per coordinator (colleagues' addresses are not shared in a To line), sent
    after commit (klaspoort.mail.queue_mail)."""
    html = linebreaks(escape(text))
    for user in selectors.coordinators_of(school):
        if user.email:
            queue_mail(subject, text, html, [user.email])


# ---------------------------------------------------------------------------------------------
# Every coupling
# ---------------------------------------------------------------------------------------------
def _fetch_one(coupling_id: int, own_connection: bool) -> FetchResult | None:
    try:
        coupling = RosterCoupling.objects.get(pk=coupling_id)
        return fetch_coupling(coupling)
    except Exception as exc:
        # One school's failure never stops the night; only the type: a database error's text
        # can quote row values.
        log.error("LAS fetch of coupling %s failed: %s", coupling_id, type(exc).__name__)
        return FetchResult(coupling_id, False, None, "error")
    finally:
        if own_connection:
            # A worker thread has its own connection; it is not left open after the night.
            connections.close_all()


def fetch_all_couplings(concurrency: int | None = None) -> dict[str, int]:
    """Fetch every coupling the night fetches (fetchable_couplings), `concurrency` at a time.

    Rules: a failure of one coupling (even an unexpected one) is recorded and never stops the
    others; with concurrency 1 (or inside a transaction, or on an in-memory database) the
    couplings are fetched one after the other in this thread, otherwise in threads that each
    close their database connection. Returns the counts: fetched (couplings tried), ok,
    failed, imported (imports received), held.
    """
    workers = max(1, concurrency or int(settings.LAS_FETCH_WORKERS))
    ids = list(fetchable_couplings().order_by("pk").values_list("pk", flat=True))
    # Other threads have connections of their own: they would not see the rows of a caller
    # inside a transaction (a test's), nor an in-memory SQLite database at all.
    alone = connection.in_atomic_block or bool(
        getattr(connection, "is_in_memory_db", lambda: False)())
    if workers == 1 or len(ids) <= 1 or alone:
        results = [_fetch_one(pk, False) for pk in ids]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(ids)),
                                thread_name_prefix="las-fetch") as pool:
            results = list(pool.map(lambda pk: _fetch_one(pk, True), ids))
    done = [r for r in results if r is not None]
    return {"fetched": len(done), "ok": sum(r.ok for r in done),
            "failed": sum(not r.ok for r in done),
            "imported": sum(bool(r.ok and r.import_id) for r in done),
            "held": sum(r.import_status == RosterImport.Status.HELD for r in done)}
