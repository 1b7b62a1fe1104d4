"""Roster writes: receiving a roster file, and applying a validated roster to a school."""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext

from klaspoort.accounts.models import User
from klaspoort.accounts.services import provision_teacher_accounts, sync_ict_coordinators
from klaspoort.roster import secrets
from klaspoort.roster.edexml import (
    RosterData,
    RosterError,
    RosterFileError,
    parse_edexml,
)
from klaspoort.roster.models import (
    Group,
    Pupil,
    PupilCluster,
    RosterEvent,
    RosterImport,
    Teacher,
    TeacherGroup,
)
from klaspoort.roster.signals import roster_applied
from klaspoort.schools.models import School

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
    record = RosterImport(
        school=school,
        source=source,
        filename=filename[:255],
        uploaded_by=uploaded_by,
        file_sha256=file_sha256 or hashlib.sha256(data).hexdigest(),
        file_size=len(data) if file_size is None else file_size,
    )
    try:
        roster = parse(data)
    except RosterFileError as exc:
        return _save_failed(record, exc.errors)

    brin6 = roster["school"]["brin"] + roster["school"]["dependancecode"]
    if school is not None and school.brin6 != brin6:
        return _save_failed(record, [RosterError(None, gettext(
            "This file belongs to school %(file_school)s, not to %(name)s (%(school)s). Nothing "
            "has been changed. Choose your own school's file."
        ) % {"file_school": brin6, "name": school.display_name, "school": school.brin6})])
    with transaction.atomic():
        if school is None:
            school, _created = School.objects.get_or_create(
                brin=roster["school"]["brin"], dependancecode=roster["school"]["dependancecode"]
            )
        record.school = school
        record.edexml_version = roster["version"]
        record.payload = dict(roster)
        record.status = RosterImport.Status.WAITING
        record.save()
    return record


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
    it processed and leaves it); a failure half-way rolls everything back and marks the import
    *mislukt* with the reason; afterwards the stored roster is erased (data minimisation).
    Teachers get their account address and activation link from the roster
    (accounts.services.provision_teacher_accounts); a teacher whose address is already used
    by someone else is reported as a warning in the processed import's messages. Teachers
    with the roster role ICT and an activated account become coordinators.
    """
    try:
        with transaction.atomic():
            record = RosterImport.objects.select_for_update(of=("self",)).select_related(
                "school").get(pk=import_id)
            if record.status != RosterImport.Status.WAITING or record.payload is None:
                return record
            assert record.school is not None
            roster: RosterData = record.payload  # type: ignore[assignment]
            counts, changed_emails = _apply(record.school, roster)
            # Teachers get their account address and activation link from the roster; the
            # links leave only once this transaction has committed.
            accounts = provision_teacher_accounts(record.school,
                                                  changed_email_ids=changed_emails)
            record.status = RosterImport.Status.PROCESSED
            record.counts = counts
            record.errors = _account_warnings(accounts.get("conflicts", []))
            record.payload = None
            record.processed_at = timezone.now()
            record.save(update_fields=["status", "counts", "errors", "payload", "processed_at"])
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
@dataclass
class _Tally:
    added: int = 0
    changed: int = 0
    deactivated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "deactivated": self.deactivated}


@dataclass
class _Changes:
    """What one entity type's diff produced, before it is written."""

    entity: str
    tally: _Tally = field(default_factory=_Tally)
    events: list[tuple[Any, str, list[str]]] = field(default_factory=list)  # (obj, action, f)

    def record(self, obj: Any, action: str, fields: list[str] | None = None) -> None:
        self.events.append((obj, action, fields or []))
        if action in (Action.ADDED, Action.REACTIVATED):
            self.tally.added += 1
        elif action == Action.DEACTIVATED:
            self.tally.deactivated += 1
        else:
            self.tally.changed += 1


class _Row:
    """An existing row as the diff reads it: its columns as attributes, and its pk.

    Cheaper than a model instance, which a school's thousand pupils would each cost every
    night; existing rows are only ever compared and then changed with UPDATE, never saved.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    @property
    def pk(self) -> int:
        return self.__dict__["id"]


def _rows(queryset: Any, columns: tuple[str, ...]) -> list[Any]:
    return [_Row(values) for values in queryset.order_by().values(*columns)]


def _diff_fields(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _lock_school(school: School) -> None:
    """Serialise imports of one school: the second waits until the first has committed."""
    School.objects.select_for_update().filter(pk=school.pk).exists()


def apply_roster(school: School, roster: RosterData) -> dict[str, Any]:
    """Make the school's roster equal to a full validated roster, and log every change.

    Rules (R2.5): people and groups are matched by LAS key, or by ECK iD when the key is new
    (a school that changed LAS keeps its pupils); whoever is missing from the file is
    deactivated, never deleted, and reactivated when they return; the same roster twice changes
    nothing. Runs in one transaction: any failure leaves the school as it was.
    """
    return _apply(school, roster)[0]


def _apply(school: School, roster: RosterData) -> tuple[dict[str, Any], set[int]]:
    """apply_roster, also returning the teachers whose e-mail address the roster changed."""
    with transaction.atomic():
        _lock_school(school)
        school_year = roster["school"]["school_year"]
        # Moves at the start of a school year, or into a school's first roster, are not
        # joiners in the middle of a lesson week.
        mid_year = Group.objects.filter(school=school).exists() and not (
            school_year and school.school_year and school.school_year != school_year)
        if school_year and school.school_year != school_year:
            school.school_year = school_year
            school.save(update_fields=["school_year"])
        groups, group_ids = _apply_groups(school, roster)
        pupils = _apply_pupils(school, roster, group_ids)
        teachers = _apply_teachers(school, roster, group_ids)
        _append_events(school, [groups, pupils, teachers])
        joined = [obj.pk for obj, action, fields in pupils.events
                  if mid_year and obj.group_id is not None and (
                      action in (Action.ADDED, Action.REACTIVATED) or "group_id" in fields)]
        roster_applied.send(sender=School, school=school, joined_pupil_ids=joined)
    changed_emails = {obj.pk for obj, _action, fields in teachers.events if "email" in fields}
    return {"groups": groups.tally.as_dict(), "pupils": pupils.tally.as_dict(),
            "teachers": teachers.tally.as_dict()}, changed_emails


def _settle(changes: _Changes, row: Any, fields: list[str]) -> None:
    """Record what became of a row that is in the file: back again, changed, or neither."""
    if not row.active:
        row.active = True
        changes.record(row, Action.REACTIVATED, fields)
    elif fields:
        changes.record(row, Action.CHANGED, fields)


def _deactivate_missing(changes: _Changes, rows: Iterable[Any]) -> None:
    for row in rows:
        if row.active:
            row.active = False
            changes.record(row, Action.DEACTIVATED)


def _apply_groups(school: School, roster: RosterData) -> tuple[_Changes, dict[str, int]]:
    changes = _Changes(Entity.GROUP)
    existing = {g.key: g for g in _rows(Group.objects.filter(school=school), _GROUP_COLUMNS)}
    new: list[Group] = []
    for data in roster["groups"]:
        values = {"kind": data["kind"], "name": data["name"], "jaargroep": data["jaargroep"],
                  "description": data["description"]}
        group = existing.pop(data["key"], None)
        if group is None:
            group = Group(school=school, key=data["key"], **values)
            new.append(group)
            changes.record(group, Action.ADDED)
        else:
            _settle(changes, group, _diff_fields(group, values))
    _deactivate_missing(changes, existing.values())
    Group.objects.bulk_create(new, batch_size=500)
    _bulk_update(Group, changes)
    group_ids = dict(Group.objects.filter(school=school).values_list("key", "id"))
    return changes, group_ids


def _new_users(count: int, kind: str) -> list[User]:
    # One unusable password for the batch: nobody signs in with a password before an
    # activation link (staff) or ever (pupils), and hashing one per row would cost seconds.
    unusable = make_password(None)
    now = timezone.now()
    users = [User(kind=kind, password=unusable, date_joined=now) for _ in range(count)]
    return User.objects.bulk_create(users, batch_size=1000)


def _match(existing_by_key: dict[str, Any], existing_by_eckid: dict[str, Any], key: str,
           eckid: str | None) -> Any:
    person = existing_by_key.pop(key, None)
    if person is None and eckid and eckid in existing_by_eckid:
        candidate = existing_by_eckid[eckid]
        if existing_by_key.get(candidate.key) is candidate:
            person = existing_by_key.pop(candidate.key)
    return person


# What the diff reads of existing rows; the timestamps are neither compared nor rewritten.
_GROUP_COLUMNS = ("id", "key", "kind", "name", "jaargroep", "description", "active")
_PUPIL_COLUMNS = ("id", "school_id", "user_id", "key", "eckid", "first_name", "prefix",
                  "last_name", "jaargroep", "group_id", "active")
_TEACHER_COLUMNS = ("id", "school_id", "user_id", "key", "eckid", "first_name", "prefix",
                    "last_name", "email", "roles", "active")


@dataclass(frozen=True)
class _People:
    """How one kind of person (pupil, teacher) is stored: the differences _apply_people needs.

    `links` are the person's group links in the file: a set of group ids (a pupil's clusters)
    or a dict of group id to roles (a teacher's groups); `link_row` builds one link row.
    """

    model: Any
    entity: str
    columns: tuple[str, ...]
    user_kind: str
    link_model: Any
    link_owner: str
    links_field: str
    values: Callable[[Any], dict[str, Any]]
    links: Callable[[Any], Any]
    link_row: Callable[[int, int, Any], Any]
    # Fills in what new rows need besides the file's values (a pupil's sign-in secret).
    prepare_new: Callable[[list[Any]], None] | None = None


def _apply_people(kind: _People, school: School, records: list[Any],
                  current_links: dict[int, Any]) -> _Changes:
    """Diff and write one kind of person; the rules are apply_roster's."""
    changes = _Changes(kind.entity)
    existing = {p.key: p for p in _rows(kind.model.objects.filter(school=school), kind.columns)}
    by_eckid = {p.eckid: p for p in existing.values() if p.eckid}
    new: list[tuple[Any, Any]] = []
    moving: list[int] = []
    wanted_links: dict[int, Any] = {}
    for data in records:
        links = kind.links(data)
        values = kind.values(data)
        person = _match(existing, by_eckid, data["key"], data["eckid"])
        if person is None:
            person = kind.model(school=school, **values)
            new.append((person, links))
            changes.record(person, Action.ADDED)
            continue
        fields = _diff_fields(person, values)
        if "key" in fields or "eckid" in fields:
            moving.append(person.pk)
        if links != current_links.get(person.pk, type(links)()):
            fields.append(kind.links_field)
            wanted_links[person.pk] = links
        _settle(changes, person, fields)
    _deactivate_missing(changes, existing.values())

    for (person, _links), user in zip(new, _new_users(len(new), kind.user_kind), strict=True):
        person.user = user
    _release_identities(kind.model, moving)
    if kind.prepare_new is not None:
        kind.prepare_new([person for person, _links in new])
    kind.model.objects.bulk_create([person for person, _links in new], batch_size=500)
    wanted_links.update({person.pk: links for person, links in new if links})
    _bulk_update(kind.model, changes)
    _sync_active_users(changes)
    _replace_links(kind.link_model, kind.link_owner, wanted_links, kind.link_row)
    return changes


def _apply_pupils(school: School, roster: RosterData, group_ids: dict[str, int]) -> _Changes:
    current: dict[int, set[int]] = {}
    # By the school's groups, not by a join on pupil: an index scan instead of a table scan.
    for pupil_id, group_id in PupilCluster.objects.filter(
        group_id__in=list(group_ids.values())
    ).values_list("pupil_id", "group_id"):
        current.setdefault(pupil_id, set()).add(group_id)
    pupils = _People(
        model=Pupil, entity=Entity.PUPIL, columns=_PUPIL_COLUMNS, user_kind=User.Kind.PUPIL,
        link_model=PupilCluster, link_owner="pupil_id", links_field="clusters",
        values=lambda data: {
            "key": data["key"], "eckid": data["eckid"], "first_name": data["first_name"],
            "prefix": data["prefix"], "last_name": data["last_name"],
            "jaargroep": data["jaargroep"],
            "group_id": group_ids[data["group"]] if data["group"] else None},
        links=lambda data: {group_ids[key] for key in data["clusters"]},
        link_row=lambda owner, group, _links: PupilCluster(pupil_id=owner, group_id=group),
        prepare_new=lambda new: secrets.issue_for_new(school, new),
    )
    return _apply_people(pupils, school, roster["pupils"], current)


def _teacher_values(data: Any) -> dict[str, Any]:
    values = {"key": data["key"], "eckid": data["eckid"], "first_name": data["first_name"],
              "prefix": data["prefix"], "last_name": data["last_name"], "roles": data["roles"]}
    if data["email"]:
        # Without an address in the file the one the coordinator entered (R1.5) stays.
        values["email"] = data["email"]
    return values


def _apply_teachers(school: School, roster: RosterData, group_ids: dict[str, int]) -> _Changes:
    current: dict[int, dict[int, list[str]]] = {}
    for teacher_id, group_id, roles in TeacherGroup.objects.filter(
        group_id__in=list(group_ids.values())
    ).values_list("teacher_id", "group_id", "roles"):
        current.setdefault(teacher_id, {})[group_id] = roles
    teachers = _People(
        model=Teacher, entity=Entity.TEACHER, columns=_TEACHER_COLUMNS,
        user_kind=User.Kind.STAFF, link_model=TeacherGroup, link_owner="teacher_id",
        links_field="groups", values=_teacher_values,
        links=lambda data: {group_ids[g["key"]]: g["roles"] for g in data["groups"]},
        link_row=lambda owner, group, links: TeacherGroup(teacher_id=owner, group_id=group,
                                                          roles=links[group]),
    )
    return _apply_people(teachers, school, roster["teachers"], current)


def _release_identities(model: Any, ids: list[int]) -> None:
    """Free the LAS keys and ECK iDs that change hands before any row takes them.

    Two pupils swapping ECK iDs, or a new pupil taking the key or ECK iD an existing one gives
    up, would otherwise hit the unique indexes half-way through the writes. The rows get a
    placeholder key and no ECK iD here; the bulk update that follows gives them their new ones.
    """
    if ids:
        model.objects.filter(pk__in=ids).update(
            eckid=None, key=Concat(Value("~moving:"), Cast("id", CharField())))


def _bulk_update(model: Any, changes: _Changes) -> None:
    """Write what changed in existing rows: only the changed columns, rows alike together.

    A night's changes are a few rows per school, mostly alike (a deactivation, a move to the
    same group), so one UPDATE per distinct set of new values is far cheaper than Django's
    bulk_update, whose CASE expression over every column of every row costs tens of ms.
    """
    columns = {f.attname for f in model._meta.concrete_fields}
    alike: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for obj, action, fields in changes.events:
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


def _sync_active_users(changes: _Changes) -> None:
    """A deactivated pupil or teacher cannot sign in; a returning one can again."""
    for action, active in ((Action.REACTIVATED, True), (Action.DEACTIVATED, False)):
        ids = [obj.user_id for obj, done, _fields in changes.events if done == action]
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


def _append_events(school: School, all_changes: list[_Changes]) -> None:
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
        for obj, action, fields in changes.events
    ]
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROSTER_EVENTS_LOCK])
    RosterEvent.objects.bulk_create(rows, batch_size=1000)
