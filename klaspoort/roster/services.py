"""Roster writes: receiving a roster file, and applying a validated roster to a school."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext

from klaspoort.accounts.models import User
from klaspoort.audit import services as audit
from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor
from klaspoort.processes import in_processes
from klaspoort.roster import diff, secret_services, secrets, selectors
from klaspoort.roster.edexml import (
    RosterData,
    RosterError,
    RosterFileError,
    parse_edexml,
)
from klaspoort.roster.models import Group, RosterEvent, RosterImport
from klaspoort.roster.signals import (
    nightly_processing_finished,
    nightly_processing_started,
    roster_applied,
)
from klaspoort.roster.spreadsheet import parse_spreadsheet
from klaspoort.roster.teacher_accounts import provision_teacher_accounts, sync_ict_coordinators
from klaspoort.schools.models import School
from klaspoort.schools.selectors import current_school_year

log = logging.getLogger(__name__)

# Any constant will do; it names the lock under which change-log rows get their numbers.
ROSTER_EVENTS_LOCK = 0x6B6C6173  # "klas"

Action = RosterEvent.Action
Entity = RosterEvent.Entity


# ---------------------------------------------------------------------------------------------
# Receiving a file
# ---------------------------------------------------------------------------------------------
def receive_roster_file(
    data: bytes,
    *,
    source: str,
    filename: str = "",
    uploaded_by: User | None = None,
    school: School | None = None,
    parse: Any = parse_edexml,
    file_size: int | None = None,
    file_sha256: str | None = None,
) -> RosterImport:
    """Validate a roster file as it arrives and store it as an import.

    Rules: the coordinator sees every error at once (status *mislukt* with the errors); a valid
    file waits for the nightly run with only the validated roster, never the raw file (which may
    carry BSNs); when `school` is given (an upload in *Beheer*) the file must be that school's;
    otherwise (command line, coupling) the school in the file is created if it is new.
    `file_size`/`file_sha256` describe the whole file when `data` is only its first part (a
    file too large to read, which the size check refuses).
    """
    record = _new_record(data, source=source, filename=filename, uploaded_by=uploaded_by,
                         school=school, file_size=file_size, file_sha256=file_sha256)
    return _validate(record, data, parse=parse, school=school)


def _new_record(data: bytes, *, source: str, filename: str, uploaded_by: User | None,
                school: School | None, file_size: int | None = None,
                file_sha256: str | None = None) -> RosterImport:
    return RosterImport(
        school=school,
        source=source,
        filename=filename[:255],
        uploaded_by=uploaded_by,
        file_sha256=file_sha256 or hashlib.sha256(data).hexdigest(),
        file_size=len(data) if file_size is None else file_size,
    )


def _validate(record: RosterImport, data: bytes, *, parse: Any,
              school: School | None) -> RosterImport:
    """receive_roster_file's rules on a record that is new or was received in Beheer."""
    try:
        roster = parse(data)
    except RosterFileError as exc:
        return _save_failed(record, exc.errors)
    record.warnings = list(roster.pop("warnings", []))

    # The standard lets a file name its school by a schoolkey only; such a file is taken for the
    # school it is given to (an upload in Beheer, or the command's --school).
    if not roster["school"]["brin"] and school is not None:
        roster["school"]["brin"] = school.brin
        roster["school"]["dependancecode"] = school.dependancecode
    if not roster["school"]["brin"]:
        return _save_failed(record, [RosterError(None, gettext(
            "The file does not name its school (it has no <brincode>). Import it in Beheer of "
            "the school it belongs to, or give the school with --school."))])
    brin6 = roster["school"]["brin"] + roster["school"]["dependancecode"]
    if school is not None and school.brin6 != brin6:
        return _save_failed(record, [RosterError(None, gettext(
            "This file belongs to school %(file_school)s, not to %(name)s (%(school)s). Nothing "
            "has been changed. Choose your own school's file."
        ) % {"file_school": brin6, "name": school.display_name, "school": school.brin6})])
    checked_by_a_person = school is not None
    with transaction.atomic():
        if school is None:
            school, _created = School.objects.get_or_create(
                brin=roster["school"]["brin"], dependancecode=roster["school"]["dependancecode"]
            )
        record.school = school
        record.edexml_version = roster["version"]
        record.payload = dict(roster)
        record.status = RosterImport.Status.WAITING
        # A coordinator who uploads a file that would empty the school hears it now, not the
        # next morning; files from the command line or a coupling are checked when applied.
        if checked_by_a_person and selectors.mass_removals(diff.plan_roster(school, roster)):
            record.status = RosterImport.Status.HELD
        record.save()
    return record


# An upload is checked in the background, but each one still costs a worker some CPU: a
# coordinator (or a stolen session) cannot keep the workers busy with a stream of files.
UPLOADS_PER_WINDOW = 10
UPLOAD_WINDOW_SECONDS = 600


class TooManyUploads(Exception):
    """The user uploaded UPLOADS_PER_WINDOW files in the last UPLOAD_WINDOW_SECONDS."""


def accept_upload(data: bytes, *, source: str, filename: str, uploaded_by: User,
                  school: School, request: HttpRequest | None = None) -> RosterImport:
    """Take a file uploaded in *Beheer* for checking in the background (issue 10 §9).

    Rules: the caller has checked that the user administers `school` before the body was
    read; at most UPLOADS_PER_WINDOW uploads per user per UPLOAD_WINDOW_SECONDS (counted in
    the shared cache, TooManyUploads beyond); the file is kept only encrypted
    (secrets.seal_file) and only until the task `roster.tasks.check_roster_file` has read it;
    that task is queued once this transaction commits, and applies receive_roster_file's rules
    (check_received_import). The upload is audited.
    """
    key = f"roster-uploads:{uploaded_by.pk}"
    cache.add(key, 0, timeout=UPLOAD_WINDOW_SECONDS)
    if cache.incr(key) > UPLOADS_PER_WINDOW:
        raise TooManyUploads
    record = _new_record(data, source=source, filename=filename, uploaded_by=uploaded_by,
                         school=school)
    record.status = RosterImport.Status.RECEIVED
    record.received_file = secrets.seal_file(data)
    record.save()
    audit.record(actor=uploaded_by, school=school, action=AuditAction.ROSTER_UPLOAD,
                 target=record.filename, request=request,
                 after={"status": record.status, "file_sha256": record.file_sha256})
    # Imported here: the tasks module imports this one.
    from klaspoort.roster import tasks

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # An in-process task sees this transaction's rows: the coordinator gets the outcome
        # in this very response.
        tasks.check_roster_file.delay(record.pk)
    else:
        # A worker must find the committed row.
        transaction.on_commit(functools.partial(tasks.check_roster_file.delay, record.pk))
    return record


def check_received_import(import_id: int) -> RosterImport:
    """The background check of an upload: receive_roster_file's rules, then the file is gone.

    Rules: only a received import is checked, once; its encrypted file is erased in the same
    transaction that records the outcome; a spreadsheet (*invulbestand*) is read for the school
    it was uploaded to. The stored messages are in Dutch, like every stored import message: the
    whole school reads them later, whatever language the uploader had chosen (with the embedded
    eager task this runs in the uploader's request).
    """
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        record = RosterImport.objects.select_for_update(of=("self",)).select_related(
            "school").get(pk=import_id)
        if record.status != RosterImport.Status.RECEIVED or record.received_file is None:
            return record
        school = record.school
        assert school is not None
        blob = record.received_file
        record.received_file = None
        try:
            data = secrets.open_file(blob)
        except ValueError:
            return _save_failed(record, [RosterError(None, gettext(
                "The file could not be read back for checking. Import it again."))])
        parse: Any = parse_edexml
        if record.source == RosterImport.Source.SPREADSHEET:
            parse = functools.partial(parse_spreadsheet, brin=school.brin,
                                      dependancecode=school.dependancecode,
                                      school_year=current_school_year(timezone.localdate()))
        return _validate(record, data, parse=parse, school=school)


def dry_run_roster_file(data: bytes, *, source: str, filename: str = "",
                        school: School | None = None, parse: Any = parse_edexml
                        ) -> tuple[RosterImport, dict[str, Any] | None]:
    """What receiving this file would do, and what it would change today, storing nothing.

    Rules: exactly receive_roster_file's checks and the preview of selectors.import_preview,
    inside a transaction that is always rolled back (a new school is not created either).
    """
    with transaction.atomic():
        record = receive_roster_file(data, source=source, filename=filename, school=school,
                                     parse=parse)
        preview = selectors.import_preview(record)
        transaction.set_rollback(True)
    return record, preview


def _save_failed(record: RosterImport, errors: Iterable[RosterError]) -> RosterImport:
    record.status = RosterImport.Status.FAILED
    record.errors = [e.as_dict() for e in errors]
    record.processed_at = timezone.now()
    record.save()
    return record


# ---------------------------------------------------------------------------------------------
# Processing an import
# ---------------------------------------------------------------------------------------------
def process_import(import_id: int) -> RosterImport:
    """Apply a waiting import to its school, all or nothing.

    Rules: only a waiting import is processed, once (a second process that arrives later finds
    it processed and leaves it); an import that would deactivate a large part of the school
    (selectors.mass_removals) is held, changing nothing, unless a coordinator confirmed at least
    those removals (confirm_held_import); a failure
    half-way rolls everything back and marks the import *mislukt* with the reason; afterwards
    the stored roster is erased (data minimisation) and older imports of the school that still
    wait are cancelled, as the newest file wins. Teachers get their account address and
    activation link from the roster (roster.teacher_accounts.provision_teacher_accounts); a teacher
    whose address is already used by someone else is reported as a warning. Teachers with the
    roster role ICT and an activated account become coordinators.
    """
    try:
        with transaction.atomic():
            record = RosterImport.objects.select_for_update(of=("self",)).select_related(
                "school").get(pk=import_id)
            if record.status != RosterImport.Status.WAITING or record.payload is None:
                return record
            assert record.school is not None
            roster: RosterData = record.payload
            try:
                counts, changed_emails = _apply(record.school, roster, record.removals_confirmed)
            except RemovalsNotConfirmed:
                record.status = RosterImport.Status.HELD
                record.save(update_fields=["status"])
                return record
            # Teachers get their account address and activation link from the roster; the
            # links leave only once this transaction has committed.
            accounts = provision_teacher_accounts(record.school,
                                                  changed_email_ids=changed_emails)
            record.status = RosterImport.Status.PROCESSED
            record.counts = counts
            record.warnings = [*record.warnings,
                               *_account_warnings(accounts.get("conflicts", []))]
            record.payload = None
            record.processed_at = timezone.now()
            record.save(update_fields=["status", "counts", "warnings", "payload",
                                       "processed_at"])
            _cancel_superseded(record)
            # Teachers with the role ICT and an activated account become coordinators.
            sync_ict_coordinators(record.school)
            return record
    except Exception as exc:
        # Only the exception's type and frames: a database error's message can quote the
        # row's values (names, an ECK iD), which never go into a log.
        log.error("roster import %s failed while processing: %s\n%s", import_id,
                  type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
        RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.WAITING).update(
            status=RosterImport.Status.FAILED,
            payload=None,
            processed_at=timezone.now(),
            errors=[{"line": None, "message": gettext(
                "Something went wrong while processing the file; nothing has been changed. Try "
                "again or contact the helpdesk."
            )}],
        )
        return RosterImport.objects.get(pk=import_id)


def _cancel_superseded(record: RosterImport) -> None:
    """Older files of the school that still wait or are held can never be applied any more:
    confirming one later would put an old roster back over the newer one."""
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext("A newer file of the school was processed, so this one no longer "
                          "applies.")
    RosterImport.objects.filter(
        school=record.school,
        status__in=[RosterImport.Status.WAITING, RosterImport.Status.HELD],
        received_at__lte=record.received_at,
    ).exclude(pk=record.pk).update(status=RosterImport.Status.CANCELLED, payload=None,
                                   processed_at=timezone.now(),
                                   errors=[{"line": None, "message": message}])


def confirm_held_import(*, actor: Actor, record: RosterImport,
                        request: HttpRequest | None = None) -> RosterImport:
    """*Toch verwerken*: a coordinator lets a held import deactivate what its preview shows.

    Rules: only a held import of the actor's school (the view checks the school); it goes back
    to the nightly run with the removals per kind that the coordinator saw, so a night that
    would find more (the roster changed since) holds it again; audited.
    """
    with transaction.atomic():
        locked = RosterImport.objects.select_for_update().get(pk=record.pk)
        if locked.status != RosterImport.Status.HELD or locked.payload is None:
            raise ImportNotHeld
        assert locked.school is not None
        removals = selectors.mass_removals(diff.plan_roster(locked.school, locked.payload))
        locked.removals_confirmed = {kind: counts["deactivated"]
                                     for kind, counts in removals.items()}
        locked.removals_confirmed_by = audit.user_of(actor)
        locked.status = RosterImport.Status.WAITING
        locked.save(update_fields=["removals_confirmed", "removals_confirmed_by", "status"])
        audit.record(actor=actor, school=locked.school, action=AuditAction.ROSTER_IMPORT_CONFIRM,
                     target=locked.filename, before={"status": RosterImport.Status.HELD},
                     after={"status": locked.status, **locked.removals_confirmed},
                     request=request)
    return locked


def cancel_import(*, actor: Actor, record: RosterImport,
                  request: HttpRequest | None = None) -> RosterImport:
    """*Annuleren*: a coordinator stops an import that waits or is held; nothing changes.

    Rules: only an import that waits or is held (a processed one cannot be undone this way);
    the stored roster is erased at once; audited.
    """
    with transaction.atomic():
        locked = RosterImport.objects.select_for_update().get(pk=record.pk)
        if locked.status not in (RosterImport.Status.WAITING, RosterImport.Status.HELD):
            raise ImportNotCancellable
        before = locked.status
        locked.status = RosterImport.Status.CANCELLED
        locked.payload = None
        locked.processed_at = timezone.now()
        locked.save(update_fields=["status", "payload", "processed_at"])
        audit.record(actor=actor, school=locked.school, action=AuditAction.ROSTER_IMPORT_CANCEL,
                     target=locked.filename, before={"status": before},
                     after={"status": locked.status}, request=request)
    return locked


class ImportNotHeld(Exception):
    """Only a held import can be confirmed."""


class ImportNotCancellable(Exception):
    """Only an import that waits or is held can be cancelled."""


def _account_warnings(conflicts: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The processed import's messages: one per teacher whose roster address was in use.

    `kind`, `teacher` and `email` let the page say it in the reader's language; `message` is
    the Dutch text for the command line and the operator admin.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return [{"line": None, "kind": "email_in_use", "teacher": c["teacher"],
                 "email": c["email"], "message": gettext(
                     "%(teacher)s has no account yet: the e-mail address %(email)s from the "
                     "user data is already used by someone else in Klaspoort. Enter another "
                     "address for this teacher under Teachers.") % c}
                for c in conflicts]


def process_waiting_imports(school_ids: Iterable[int] | None = None) -> list[RosterImport]:
    """The nightly run: process every waiting import, oldest first, so the newest file wins."""
    waiting = RosterImport.objects.filter(status=RosterImport.Status.WAITING)
    if school_ids is not None:
        waiting = waiting.filter(school_id__in=list(school_ids))
    ids = list(waiting.order_by("received_at", "id").values_list("id", flat=True))
    return [process_import(pk) for pk in ids]


def process_the_night(workers: int = 1,
                      done: Callable[[list[str]], None] | None = None) -> list[str]:
    """RULE: the night processes every waiting import (process_waiting_imports' order; with
    `workers` processes on PostgreSQL, each on whole schools, waiting_imports_by_school), and
    tells other apps when that processing starts and when it has finished
    (roster.signals.nightly_processing_started/finished), also when it failed, so work that
    would compete with the imports for the machine waits for them. `done` gets the imports'
    statuses before the finish is told. Returns the statuses."""
    # SQLite lets one transaction write at a time: more workers would only wait in turn.
    workers = 1 if connection.vendor == "sqlite" else workers
    nightly_processing_started.send(sender=RosterImport)
    try:
        if workers == 1:
            statuses = [record.status for record in process_waiting_imports()]
        else:
            statuses = []
            for statuses_of_school in in_processes(_process_school,
                                                   waiting_imports_by_school(), workers):
                statuses.extend(statuses_of_school)
        if done is not None:
            done(statuses)
    finally:
        nightly_processing_finished.send(sender=RosterImport, workers=workers)
    return statuses


def _process_school(import_ids: list[int]) -> list[str]:
    return [process_import(pk).status for pk in import_ids]


def waiting_imports_by_school() -> list[list[int]]:
    """The nightly run's work cut into one list per school, for parallel workers.

    Rules: a school's waiting imports stay in one list, oldest first, so the worker that takes
    the list applies them in order and the newest file wins; the largest schools come first, so
    workers that each take the next list when they are free finish at about the same time.
    """
    per_school: dict[int, list[int]] = {}
    size: Counter[int] = Counter()
    for pk, school_id, file_size in RosterImport.objects.filter(
        status=RosterImport.Status.WAITING
    ).order_by("received_at", "id").values_list("id", "school_id", "file_size"):
        per_school.setdefault(school_id, []).append(pk)
        size[school_id] += file_size
    return [per_school[school_id] for school_id, _size in size.most_common()]


# ---------------------------------------------------------------------------------------------
# Applying a roster
# ---------------------------------------------------------------------------------------------
class RemovalsNotConfirmed(Exception):
    """Applying would deactivate a large part of the school, and nobody confirmed that."""

    def __init__(self, removals: dict[str, dict[str, int]]) -> None:
        super().__init__("mass removal")
        self.removals = removals


def _lock_school(school: School) -> None:
    """Serialise imports of one school: the second waits until the first has committed."""
    School.objects.select_for_update().filter(pk=school.pk).exists()


def apply_roster(school: School, roster: RosterData,
                 confirmed: dict[str, int] | None = None) -> dict[str, Any]:
    """Make the school's roster equal to a full validated roster, and log every change.

    Rules (R2.5, the diff's in roster.diff): people and groups are matched by LAS key, or by
    ECK iD when the key is new; whoever is missing from the file is deactivated, never deleted,
    and reactivated when they return; the same roster twice changes nothing. A roster that would
    deactivate a large part of the school (selectors.mass_removals) raises RemovalsNotConfirmed
    unless `confirmed` allows at least that many per kind. Runs in one transaction: any
    failure leaves the school as it was.
    """
    return _apply(school, roster, confirmed)[0]


def _apply(school: School, roster: RosterData, confirmed: dict[str, int] | None = None
           ) -> tuple[dict[str, Any], set[int]]:
    """apply_roster, also returning the teachers whose e-mail address the roster changed."""
    with transaction.atomic():
        _lock_school(school)
        new_school_year = diff.is_new_school_year(school, roster)
        # Moves at the start of a school year, or into a school's first roster, are not
        # joiners in the middle of a lesson week.
        mid_year = Group.objects.filter(school=school).exists() and not new_school_year
        groups, new_groups = diff.diff_groups(school, roster)
        # Groups are written first, so pupils and teachers are diffed against real group ids;
        # a held roster rolls them back with everything else.
        Group.objects.bulk_create(new_groups, batch_size=500)
        _bulk_update(Group, groups)
        group_ids = dict(Group.objects.filter(school=school).values_list("key", "id"))
        pupils = diff.diff_people(
            diff.pupils_kind(school, group_ids,
                             prepare_new=lambda new: secret_services.issue_for_new(school, new)),
            school, roster["pupils"], diff.current_pupil_links(group_ids))
        teachers = diff.diff_people(diff.teachers_kind(group_ids), school, roster["teachers"],
                                    diff.current_teacher_links(group_ids))
        plan = diff.RosterPlan(school=school, roster=roster, new_school_year=new_school_year,
                               groups=groups, pupils=pupils, teachers=teachers, group_names={})
        removals = selectors.mass_removals(plan)
        if any(counts["deactivated"] > (confirmed or {}).get(kind, -1)
               for kind, counts in removals.items()):
            raise RemovalsNotConfirmed(removals)
        school_year = roster["school"]["school_year"]
        if school_year and school.school_year != school_year:
            school.school_year = school_year
            school.save(update_fields=["school_year"])
        _write_people(pupils)
        _write_people(teachers)
        _append_events(school, [groups, pupils.changes, teachers.changes])
        joined = [obj.pk for obj, action, fields, _before in pupils.changes.events
                  if mid_year and obj.group_id is not None and (
                      action in (Action.ADDED, Action.REACTIVATED) or "group_id" in fields)]
        changed = any(changes.events for changes in (groups, pupils.changes, teachers.changes))
        roster_applied.send(
            sender=School, school=school, joined_pupil_ids=joined, changed=changed,
            group_ids={obj.pk for obj, _action, _fields, _before in groups.events},
            user_ids={obj.user_id for changes in (pupils.changes, teachers.changes)
                      for obj, _action, _fields, _before in changes.events})
    changed_emails = {obj.pk for obj, _action, fields, _before in teachers.changes.events
                      if "email" in fields}
    return plan.counts(), changed_emails


def _new_users(count: int, kind: str) -> list[User]:
    # One unusable password for the batch: nobody signs in with a password before an
    # activation link (staff) or ever (pupils), and hashing one per row would cost seconds.
    unusable = make_password(None)
    now = timezone.now()
    users = [User(kind=kind, password=unusable, date_joined=now) for _ in range(count)]
    return User.objects.bulk_create(users, batch_size=1000)


def _write_people(people: diff.PeopleDiff) -> None:
    """Write one kind's diff: new people with their accounts, changed rows, group links."""
    kind = people.kind
    for (person, _links), user in zip(people.new, _new_users(len(people.new), kind.user_kind),
                                      strict=True):
        person.user = user
    _release_identities(kind.model, people.moving)
    if kind.prepare_new is not None:
        kind.prepare_new([person for person, _links in people.new])
    kind.model.objects.bulk_create([person for person, _links in people.new], batch_size=500)
    people.wanted_links.update({person.pk: links for person, links in people.new if links})
    _bulk_update(kind.model, people.changes)
    _sync_active_users(people.changes)
    _replace_links(kind.link_model, kind.link_owner, people.wanted_links, kind.link_row)


def _release_identities(model: Any, ids: list[int]) -> None:
    """Free the LAS keys and ECK iDs that change hands before any row takes them.

    Two pupils swapping ECK iDs, or a new pupil taking the key or ECK iD an existing one gives
    up, would otherwise hit the unique indexes half-way through the writes. The rows get a
    placeholder key and no ECK iD here; the bulk update that follows gives them their new ones.
    """
    if ids:
        model.objects.filter(pk__in=ids).update(
            eckid=None, key=Concat(Value("~moving:"), Cast("id", CharField())))


def _bulk_update(model: Any, changes: diff.Changes) -> None:
    """Write what changed in existing rows: only the changed columns, rows alike together.

    A night's changes are a few rows per school, mostly alike (a deactivation, a move to the
    same group), so one UPDATE per distinct set of new values is far cheaper than Django's
    bulk_update, whose CASE expression over every column of every row costs tens of ms.
    """
    columns = {f.attname for f in model._meta.concrete_fields}
    alike: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for obj, action, fields, _before in changes.events:
        if action == Action.ADDED:
            continue
        names = {name for name in fields if name in columns}
        if names & {"key", "eckid"}:
            # _release_identities gave the row a placeholder key and no ECK iD: write both.
            names |= {"key", "eckid"}
        if action != Action.CHANGED:
            names.add("active")
        values = tuple(sorted((name, _hashable(getattr(obj, name))) for name in names))
        alike.setdefault(values, []).append(obj.pk)
    now = timezone.now()
    for values, ids in alike.items():
        for start in range(0, len(ids), 500):
            model.objects.filter(pk__in=ids[start:start + 500]).update(
                **{name: _unhashable(value) for name, value in values}, updated_at=now)


def _hashable(value: Any) -> Any:
    return ("json", json.dumps(value)) if isinstance(value, list | dict) else value


def _unhashable(value: Any) -> Any:
    return json.loads(value[1]) if isinstance(value, tuple) else value


def _sync_active_users(changes: diff.Changes) -> None:
    """A deactivated pupil or teacher cannot sign in; a returning one can again."""
    for action, active in ((Action.REACTIVATED, True), (Action.DEACTIVATED, False)):
        ids = [obj.user_id for obj, done, _fields, _before in changes.events if done == action]
        for start in range(0, len(ids), 500):
            User.objects.filter(pk__in=ids[start:start + 500]).exclude(
                is_active=active).update(is_active=active)


def _replace_links(model: Any, owner_field: str, wanted: dict[int, Any],
                   build: Callable[[int, int, Any], Any]) -> None:
    """Make the link rows of each owner in `wanted` exactly its wanted links."""
    if not wanted:
        return
    model.objects.filter(**{f"{owner_field}__in": list(wanted)}).delete()
    model.objects.bulk_create(
        [build(owner, group, links) for owner, links in wanted.items() for group in links],
        batch_size=1000,
    )


def _append_events(school: School, all_changes: list[diff.Changes]) -> None:
    """Write the change log last, under one lock held until commit.

    Sequence numbers are handed out in insert order, but concurrent transactions could commit
    out of that order, and a reader could then step over a number that appears a moment later.
    Taking a transaction-level lock just before inserting makes every writer insert and commit
    one after the other; on SQLite the IMMEDIATE transaction already does the same.
    """
    rows = [
        RosterEvent(school=school, entity=changes.entity, entity_id=obj.pk, action=action,
                    fields=fields)
        for changes in all_changes
        for obj, action, fields, _before in changes.events
    ]
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROSTER_EVENTS_LOCK])
    RosterEvent.objects.bulk_create(rows, batch_size=1000)
