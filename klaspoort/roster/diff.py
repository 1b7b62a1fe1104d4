"""What a full roster would change in a school: the diff, computed without writing anything.

One diff serves both the preview a coordinator sees before a file is applied
(selectors.import_preview) and the import itself (services.apply_roster), so what the preview
promises is what the night does. The rules of matching are R2.5's: people and groups are
matched by LAS key, or by ECK iD when the key is new; whoever is missing from the file is
deactivated, never deleted, and reactivated when they return.

The diff reads existing rows as plain values (`_Row`), never as model instances: a school's
thousand pupils would otherwise cost a model instance each every night.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from klaspoort.accounts.models import User
from klaspoort.roster.edexml import RosterData
from klaspoort.roster.models import Group, Pupil, PupilCluster, RosterEvent, Teacher, TeacherGroup
from klaspoort.schools.models import School

Action = RosterEvent.Action
Entity = RosterEvent.Entity


@dataclass
class Tally:
    added: int = 0
    changed: int = 0
    deactivated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "deactivated": self.deactivated}


@dataclass
class Changes:
    """What one entity type's diff produced, before it is written.

    Each event is (row, action, changed field names, the old values of those fields); `active`
    counts the rows that were active before, which the mass-removal guard weighs against.
    """

    entity: str
    tally: Tally = field(default_factory=Tally)
    events: list[tuple[Any, str, list[str], dict[str, Any]]] = field(default_factory=list)
    active: int = 0

    def record(self, obj: Any, action: str, fields: list[str] | None = None,
               before: dict[str, Any] | None = None) -> None:
        self.events.append((obj, action, fields or [], before or {}))
        if action in (Action.ADDED, Action.REACTIVATED):
            self.tally.added += 1
        elif action == Action.DEACTIVATED:
            self.tally.deactivated += 1
        else:
            self.tally.changed += 1


class Row:
    """An existing row as the diff reads it: its columns as attributes, and its pk.

    Existing rows are only ever compared and then changed with UPDATE, never saved.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    @property
    def pk(self) -> int:
        return int(self.__dict__["id"])


def _rows(queryset: Any, columns: tuple[str, ...]) -> list[Any]:
    return [Row(values) for values in queryset.order_by().values(*columns)]


def _diff_fields(obj: Any, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The names of the fields whose value differs, and their old values; obj gets the new."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    before = {name: getattr(obj, name) for name in changed}
    for name in changed:
        setattr(obj, name, values[name])
    return changed, before


def _settle(changes: Changes, row: Any, fields: list[str], before: dict[str, Any]) -> None:
    """Record what became of a row that is in the file: back again, changed, or neither."""
    if not row.active:
        row.active = True
        changes.record(row, Action.REACTIVATED, fields, before)
    elif fields:
        changes.record(row, Action.CHANGED, fields, before)


def _deactivate_missing(changes: Changes, rows: Iterable[Any]) -> None:
    for row in rows:
        if row.active:
            row.active = False
            changes.record(row, Action.DEACTIVATED)


def _count_active(changes: Changes, rows: Iterable[Any]) -> None:
    changes.active = sum(1 for row in rows if row.active)


# What the diff reads of existing rows; the timestamps are neither compared nor rewritten.
GROUP_COLUMNS = ("id", "key", "kind", "name", "jaargroep", "description", "active")
PUPIL_COLUMNS = ("id", "school_id", "user_id", "key", "eckid", "first_name", "prefix",
                 "last_name", "jaargroep", "group_id", "active")
TEACHER_COLUMNS = ("id", "school_id", "user_id", "key", "eckid", "first_name", "prefix",
                   "last_name", "email", "roles", "active")


def diff_groups(school: School, roster: RosterData) -> tuple[Changes, list[Group]]:
    """The groups' changes, and the new groups (unsaved)."""
    changes = Changes(Entity.GROUP)
    existing = {g.key: g for g in _rows(Group.objects.filter(school=school), GROUP_COLUMNS)}
    _count_active(changes, existing.values())
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
            _settle(changes, group, *_diff_fields(group, values))
    _deactivate_missing(changes, existing.values())
    return changes, new


def _match(existing_by_key: dict[str, Any], existing_by_eckid: dict[str, Any], key: str,
           eckid: str | None) -> Any:
    person = existing_by_key.pop(key, None)
    if person is None and eckid and eckid in existing_by_eckid:
        candidate = existing_by_eckid[eckid]
        if existing_by_key.get(candidate.key) is candidate:
            person = existing_by_key.pop(candidate.key)
    return person


@dataclass(frozen=True)
class People:
    """How one kind of person (pupil, teacher) is stored: the differences the diff needs.

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


@dataclass
class PeopleDiff:
    """One kind's diff: the changes, the new people (unsaved, with their links), the rows whose
    key or ECK iD changes hands, and the link sets to write."""

    kind: People
    changes: Changes
    new: list[tuple[Any, Any]]
    moving: list[int]
    wanted_links: dict[int, Any]


def diff_people(kind: People, school: School, records: list[Any],
                current_links: dict[int, Any]) -> PeopleDiff:
    """Diff one kind of person against the school's rows; the rules are the module's."""
    changes = Changes(kind.entity)
    existing = {p.key: p for p in _rows(kind.model.objects.filter(school=school), kind.columns)}
    _count_active(changes, existing.values())
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
        fields, before = _diff_fields(person, values)
        if "key" in fields or "eckid" in fields:
            moving.append(person.pk)
        current = current_links.get(person.pk, type(links)())
        if links != current:
            fields.append(kind.links_field)
            before[kind.links_field] = current
            wanted_links[person.pk] = links
        _settle(changes, person, fields, before)
    _deactivate_missing(changes, existing.values())
    return PeopleDiff(kind, changes, new, moving, wanted_links)


def pupils_kind(school: School, group_ids: dict[str, int],
                prepare_new: Callable[[list[Any]], None] | None = None) -> People:
    return People(
        model=Pupil, entity=Entity.PUPIL, columns=PUPIL_COLUMNS,
        user_kind=User.Kind.PUPIL,
        link_model=PupilCluster, link_owner="pupil_id", links_field="clusters",
        values=lambda data: {
            "key": data["key"], "eckid": data["eckid"], "first_name": data["first_name"],
            "prefix": data["prefix"], "last_name": data["last_name"],
            "jaargroep": data["jaargroep"],
            "group_id": group_ids[data["group"]] if data["group"] else None},
        links=lambda data: {group_ids[key] for key in data["clusters"]},
        link_row=lambda owner, group, _links: PupilCluster(pupil_id=owner, group_id=group),
        prepare_new=prepare_new,
    )


def current_pupil_links(group_ids: dict[str, int]) -> dict[int, set[int]]:
    current: dict[int, set[int]] = {}
    # By the school's groups, not by a join on pupil: an index scan instead of a table scan.
    for pupil_id, group_id in PupilCluster.objects.filter(
        group_id__in=[pk for pk in group_ids.values() if pk > 0]
    ).values_list("pupil_id", "group_id"):
        current.setdefault(pupil_id, set()).add(group_id)
    return current


def _teacher_values(data: Any) -> dict[str, Any]:
    values = {"key": data["key"], "eckid": data["eckid"], "first_name": data["first_name"],
              "prefix": data["prefix"], "last_name": data["last_name"], "roles": data["roles"]}
    if data["email"]:
        # Without an address in the file the one the coordinator entered (R1.5) stays.
        values["email"] = data["email"]
    return values


def teachers_kind(group_ids: dict[str, int]) -> People:
    return People(
        model=Teacher, entity=Entity.TEACHER, columns=TEACHER_COLUMNS,
        user_kind=User.Kind.STAFF,
        link_model=TeacherGroup, link_owner="teacher_id", links_field="groups",
        values=_teacher_values,
        links=lambda data: {group_ids[g["key"]]: g["roles"] for g in data["groups"]},
        link_row=lambda owner, group, links: TeacherGroup(teacher_id=owner, group_id=group,
                                                          roles=links[group]),
    )


def current_teacher_links(group_ids: dict[str, int]) -> dict[int, dict[int, list[str]]]:
    current: dict[int, dict[int, list[str]]] = {}
    for teacher_id, group_id, roles in TeacherGroup.objects.filter(
        group_id__in=[pk for pk in group_ids.values() if pk > 0]
    ).values_list("teacher_id", "group_id", "roles"):
        current.setdefault(teacher_id, {})[group_id] = roles
    return current


@dataclass
class RosterPlan:
    """Everything a roster would change in a school, computed without writing.

    New groups have no id yet: they get negative stand-in ids here, so that pupils and teachers
    moving into them show as changed, as they will be.
    """

    school: School
    roster: RosterData
    new_school_year: bool
    groups: Changes
    pupils: PeopleDiff
    teachers: PeopleDiff
    group_names: dict[int, str]

    def counts(self) -> dict[str, dict[str, int]]:
        return {"groups": self.groups.tally.as_dict(),
                "pupils": self.pupils.changes.tally.as_dict(),
                "teachers": self.teachers.changes.tally.as_dict()}


def is_new_school_year(school: School, roster: RosterData) -> bool:
    """A file for another school year than the school's current one (the summer's first)."""
    year = roster["school"]["school_year"]
    return bool(year and school.school_year and school.school_year != year)


def plan_roster(school: School, roster: RosterData) -> RosterPlan:
    """What applying this full roster to the school would change; reads, never writes."""
    groups, new_groups = diff_groups(school, roster)
    group_ids = dict(Group.objects.filter(school=school).values_list("key", "id"))
    names = dict(Group.objects.filter(school=school).values_list("id", "name"))
    for number, group in enumerate(new_groups, start=1):
        group_ids[group.key] = -number
        names[-number] = group.name
    pupils = diff_people(pupils_kind(school, group_ids), school, roster["pupils"],
                         current_pupil_links(group_ids))
    teachers = diff_people(teachers_kind(group_ids), school, roster["teachers"],
                           current_teacher_links(group_ids))
    return RosterPlan(school=school, roster=roster,
                      new_school_year=is_new_school_year(school, roster),
                      groups=groups, pupils=pupils, teachers=teachers, group_names=names)
