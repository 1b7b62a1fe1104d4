"""Roster reads. Every function takes the school: callers have resolved it through tenancy."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When
from django.utils.translation import gettext_lazy

from klaspoort.accounts.models import User
from klaspoort.roster import diff
from klaspoort.roster.edexml import RosterData
from klaspoort.roster.models import (
    Group,
    Pupil,
    RosterImport,
    Teacher,
    TeacherGroup,
    sort_name,
)
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.tenancy import for_school

PUPIL_SORTS = {
    "naam": ("last_name", "first_name"),
    "-naam": ("-last_name", "-first_name"),
    "jaargroep": ("jaargroep", "last_name", "first_name"),
    "-jaargroep": ("-jaargroep", "last_name", "first_name"),
    "groep": ("group__name", "last_name", "first_name"),
    "-groep": ("-group__name", "last_name", "first_name"),
}


def imports_of(school: School) -> QuerySet[RosterImport]:
    return for_school(RosterImport, school).select_related("uploaded_by")


def import_of(school: School, import_id: int) -> RosterImport:
    """One import of this school; DoesNotExist for another school's import."""
    return imports_of(school).get(pk=import_id)


# ---------------------------------------------------------------------------------------------
# What a roster file will change (the preview), and the mass-removal guard
# ---------------------------------------------------------------------------------------------
MASS_REMOVAL_PERCENT = 10
MASS_REMOVAL_MINIMUM = 3
KINDS = ("groups", "pupils", "teachers")


def _kind_changes(plan: diff.RosterPlan) -> dict[str, diff.Changes]:
    return {"groups": plan.groups, "pupils": plan.pupils.changes,
            "teachers": plan.teachers.changes}


def mass_removals(plan: diff.RosterPlan) -> dict[str, dict[str, int]]:
    """The kinds of which a roster would deactivate a large part: the mass-removal guard.

    Rule (issue 9, decision 0015): a file that would deactivate more than 10 % of a school's
    active groups, pupils or teachers, and at least 3 of that kind, waits for a coordinator's
    confirmation. Not counted, because the file says so on purpose rather than by omission:
    pupils it lists as having left (jaargroep H or a leaving date), and, in the first file of a
    new school year, pupils who were in year group 8 (they leave primary school every summer).
    Returns {kind: {"deactivated": n, "active": active before}} for each kind over the line.
    """
    left = {p["key"] for p in plan.roster.get("left_pupils", [])}
    found: dict[str, dict[str, int]] = {}
    for kind, changes in _kind_changes(plan).items():
        removed = [obj for obj, action, _fields, _before in changes.events
                   if action == diff.Action.DEACTIVATED]
        if kind == "pupils":
            removed = [obj for obj in removed if obj.key not in left
                       and not (plan.new_school_year and obj.jaargroep == "8")]
        count = len(removed)
        if count >= MASS_REMOVAL_MINIMUM and count * 100 > MASS_REMOVAL_PERCENT * changes.active:
            found[kind] = {"deactivated": count, "active": changes.active}
    return found


FIELD_LABELS = {
    "key": gettext_lazy("key in the LAS"),
    "eckid": gettext_lazy("ECK iD"),
    "first_name": gettext_lazy("first name"),
    "prefix": gettext_lazy("prefix"),
    "last_name": gettext_lazy("last name"),
    "jaargroep": gettext_lazy("year group"),
    "group_id": gettext_lazy("group"),
    "clusters": gettext_lazy("clusters"),
    "groups": gettext_lazy("groups"),
    "email": gettext_lazy("e-mail address"),
    "roles": gettext_lazy("roles"),
    "name": gettext_lazy("name"),
    "kind": gettext_lazy("kind"),
    "description": gettext_lazy("description"),
}
# Field names in the JSON of `import-edexml --dry-run`: a machine format, never translated.
FIELD_CODES = {"group_id": "group"}


def _value(plan: diff.RosterPlan, name: str, value: Any) -> str:
    """A field's value as the preview shows it; an ECK iD is a pseudonym and never shown."""
    if name == "eckid":
        return ""
    if name == "group_id":
        return plan.group_names.get(value, "") if value else ""
    if name in ("clusters", "groups"):
        return ", ".join(sorted(plan.group_names.get(pk, "") for pk in value))
    if isinstance(value, list):
        return ", ".join(value)
    if name == "kind":
        return str(Group.Kind(value).label) if value in Group.Kind.values else str(value)
    return "" if value is None else str(value)


def _entry(plan: diff.RosterPlan, kind: str, obj: Any) -> dict[str, Any]:
    """Who or what a change is about, as a school list shows it: 'Vries, Jan de', and for a
    pupil the group (the new one where the file moves them)."""
    if kind == "groups":
        return {"key": obj.key, "name": str(obj.name)}
    entry = {"key": obj.key, "name": sort_name(obj.first_name, obj.prefix, obj.last_name)}
    if kind == "pupils":
        entry["group"] = plan.group_names.get(obj.group_id, "") if obj.group_id else ""
    return entry


def describe_plan(plan: diff.RosterPlan) -> dict[str, Any]:
    """What a roster will change, for people: counts and, per kind, who or what is added,
    changed (each field before and after), deactivated or reactivated, plus the pupils the file
    lists who are not at the school. Names sorted; a machine reads the same as JSON."""
    changes: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind, kind_changes in _kind_changes(plan).items():
        lists: dict[str, list[dict[str, Any]]] = {
            "added": [], "changed": [], "deactivated": [], "reactivated": []}
        for obj, action, fields, before in kind_changes.events:
            entry = _entry(plan, kind, obj)
            if action in (diff.Action.CHANGED, diff.Action.REACTIVATED):
                entry["fields"] = [
                    {"field": FIELD_CODES.get(name, name), "label": str(FIELD_LABELS[name]),
                     "before": _value(plan, name, before.get(name)),
                     "after": _value(plan, name, _after(plan, kind, obj, name))}
                    for name in fields]
            lists[action].append(entry)
        for entries in lists.values():
            entries.sort(key=lambda e: (e["name"].casefold(), e["key"]))
        changes[kind] = lists
    changes["pupils"]["not_active"] = sorted(
        ({"key": p["key"], "reason": p["reason"],
          "name": sort_name(p["first_name"], p["prefix"], p["last_name"])}
         for p in plan.roster.get("left_pupils", [])),
        key=lambda e: (e["name"].casefold(), e["key"]))
    counts = {kind: {action: len(entries) for action, entries in lists.items()}
              for kind, lists in changes.items()}
    return {"counts": counts, "changes": changes, "mass_removals": mass_removals(plan),
            "new_school_year": plan.new_school_year}


def _after(plan: diff.RosterPlan, kind: str, obj: Any, name: str) -> Any:
    """A changed field's new value: on the row, or in the wanted links for link fields."""
    if name == "clusters":
        return plan.pupils.wanted_links.get(obj.pk, set())
    if name == "groups":
        return plan.teachers.wanted_links.get(obj.pk, {})
    return getattr(obj, name)


def roster_preview(school: School, roster: RosterData) -> dict[str, Any]:
    """describe_plan of what this roster would change in the school today (reads only)."""
    return describe_plan(diff.plan_roster(school, roster))


def import_preview(record: RosterImport) -> dict[str, Any] | None:
    """What a waiting or held import will change against today's roster; None for an import
    that no longer carries its roster (processed, failed, cancelled)."""
    if record.payload is None or record.school is None or record.status not in (
            RosterImport.Status.WAITING, RosterImport.Status.HELD):
        return None
    return roster_preview(record.school, record.payload)


def school_summary(school: School) -> dict[str, Any]:
    """What *Gegevens* shows: active groups, clusters, pupils, teachers; the latest imports."""
    kinds = dict(for_school(Group, school).filter(active=True).values_list("kind")
                 .annotate(n=Count("id")).order_by())
    return {
        "groups": kinds.get(Group.Kind.GROUP, 0),
        "clusters": kinds.get(Group.Kind.CLUSTER, 0),
        "pupils": for_school(Pupil, school).filter(active=True).count(),
        "teachers": for_school(Teacher, school).filter(active=True).count(),
        "last_import": imports_of(school).first(),
        "last_processed": imports_of(school).filter(status=RosterImport.Status.PROCESSED)
        .order_by("-processed_at", "-id").first(),
    }


def coordinators_of(school: School) -> QuerySet[User]:
    """The Klaspoort users who administer this school (its ICT coordinators in Klaspoort)."""
    user_ids = for_school(SchoolMembership, school).filter(
        role=SchoolMembership.Role.COORDINATOR).values("user_id")
    return User.objects.filter(pk__in=user_ids, is_active=True).order_by("email")


def groups_of(school: School, *, active_only: bool = True) -> QuerySet[Group]:
    """Groups first, then clusters (samengestelde groepen), each by name."""
    groups = for_school(Group, school)
    if active_only:
        groups = groups.filter(active=True)
    return groups.annotate(
        pupil_count=Count("pupils", filter=Q(pupils__active=True), distinct=True)
        + Count("cluster_pupils", filter=Q(cluster_pupils__active=True), distinct=True)
    ).order_by(Case(When(kind=Group.Kind.GROUP, then=0), default=1), "name")


def group_members(school: School, group_id: int) -> tuple[Group, list[Teacher], list[Pupil]]:
    """A group with its active teachers and pupils (a cluster's pupils come from elsewhere)."""
    group = for_school(Group, school).get(pk=group_id)
    teachers = list(for_school(Teacher, school).filter(
        active=True, groups=group).order_by("last_name", "first_name"))
    pupil_filter = Q(clusters=group) if group.kind == Group.Kind.CLUSTER else Q(group=group)
    pupils = list(for_school(Pupil, school).filter(pupil_filter, active=True)
                  .select_related("group").order_by("last_name", "first_name"))
    return group, teachers, pupils


def group_of(school: School, group_id: int) -> Group:
    """A (main) group of the school: sign-in secrets are kept per group, not per cluster."""
    return for_school(Group, school).get(pk=group_id, kind=Group.Kind.GROUP)


def group_pupil(group: Group, pupil_id: int | None) -> Pupil | None:
    """An active pupil of this group, or None for anything else (another group or school)."""
    if pupil_id is None:
        return None
    return (for_school(Pupil, group.school).filter(pk=pupil_id, group=group, active=True)
            .select_related("group", "school").first())


def pupils_of(school: School, *, search: str = "", sort: str = "naam") -> QuerySet[Pupil]:
    pupils = for_school(Pupil, school).filter(active=True).select_related("group")
    for word in search.split()[:5]:
        pupils = pupils.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
            | Q(prefix__icontains=word) | Q(group__name__icontains=word)
        )
    return pupils.order_by(*PUPIL_SORTS.get(sort, PUPIL_SORTS["naam"]))


def teachers_of(school: School, *, coordinators_only: bool = False) -> QuerySet[Teacher]:
    teachers = for_school(Teacher, school).filter(active=True)
    if coordinators_only:
        teachers = [t.pk for t in teachers if t.is_ict_coordinator]  # type: ignore[assignment]
        teachers = for_school(Teacher, school).filter(pk__in=teachers)
    return teachers.select_related("user").prefetch_related(
        Prefetch("teachergroup_set",
                 queryset=TeacherGroup.objects.filter(group__active=True)
                 .select_related("group").order_by("group__name"))
    ).order_by("last_name", "first_name")


def export_roster(school: School) -> dict[str, Any]:
    """The school's roster as the `export-roster` command prints it (a stable format)."""
    groups = list(for_school(Group, school).order_by("key"))
    key_of = {g.pk: g.key for g in groups}
    pupils = for_school(Pupil, school).order_by("key").prefetch_related("pupilcluster_set")
    teachers = for_school(Teacher, school).order_by("key").prefetch_related("teachergroup_set")

    def none_if_empty(value: str | None) -> str | None:
        return value or None

    return {
        "school": {"brin": school.brin, "dependancecode": school.dependancecode,
                   "name": none_if_empty(school.name)},
        "groups": [
            {"key": g.key, "name": g.name, "jaargroep": none_if_empty(g.jaargroep),
             "kind": g.kind, "active": g.active}
            for g in groups
        ],
        "pupils": [
            {"key": p.key, "first_name": none_if_empty(p.first_name),
             "prefix": none_if_empty(p.prefix), "last_name": none_if_empty(p.last_name),
             "jaargroep": none_if_empty(p.jaargroep),
             "group": key_of.get(p.group_id) if p.group_id else None,
             "clusters": sorted(key_of[c.group_id] for c in p.pupilcluster_set.all()),
             "active": p.active}
            for p in pupils
        ],
        "teachers": [
            {"key": t.key, "first_name": none_if_empty(t.first_name),
             "prefix": none_if_empty(t.prefix), "last_name": none_if_empty(t.last_name),
             "email": none_if_empty(t.email),
             "groups": sorted(key_of[tg.group_id] for tg in t.teachergroup_set.all()),
             "active": t.active}
            for t in teachers
        ],
    }


def person_by_key(school: School, key: str) -> Pupil | Teacher | None:
    """The active pupil, else the active teacher, with this LAS key at the school."""
    pupil = for_school(Pupil, school).filter(key=key, active=True).select_related("user").first()
    if pupil is not None:
        return pupil
    return for_school(Teacher, school).filter(key=key, active=True).select_related("user").first()


def groups_taught(teacher: Teacher) -> QuerySet[Group]:
    """The active groups and clusters the teacher teaches (TeacherGroup), groups first, with
    their pupil counts as on *Groepen*."""
    return groups_of(teacher.school).filter(teachers=teacher)


def taught_group(teacher: Teacher, group_id: int) -> Group:
    """One active group or cluster the teacher teaches; DoesNotExist for any other group, of
    their own school or another."""
    return for_school(Group, teacher.school).filter(active=True, teachers=teacher).get(
        pk=group_id)
