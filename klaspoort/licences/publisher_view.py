"""THE rule of what a publisher sees of a school (R6, decision 0030): who and what its software
may know, with which ids and which fields. Single sign-on's claims (sso.claims), the change feed
and snapshots (exchange) and OneRoster all read it here, so a publisher never learns through one
door what another door hides.

Rule: a publisher sees a school only while the school consents to it; inside the school only
the active groups linked to one of its running per-group licences, the active pupils of those
groups (as members or in those clusters) and the active pupils on one of its running per-child
licences, and the active teachers of those groups. A person is therefore in the view exactly
when the access rule (licences.access) gives them at least one of the publisher's products
today. Fields: pairwise ids (klaspoort.pseudonyms, the same as in ID tokens), given name and
the family name's initial, role, year group, the group's name and kind. Never an e-mail
address, birth date, LAS key or ECK iD.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from klaspoort.kept import Kept
from klaspoort.licences.access import Access, access_for_school
from klaspoort.licences.models import Contract, GroupLicence, running_q
from klaspoort.pseudonyms import PublisherIds
from klaspoort.roster.models import Group, Pupil, PupilCluster, Teacher, TeacherGroup
from klaspoort.schools.models import PublisherConsent, School
from klaspoort.tenancy import for_school

PUPIL = "pupil"
TEACHER = "teacher"


def family_name_shown(prefix: str, last_name: str, *, full: bool = False) -> str:
    """RULE: a publisher receives the family name's initial ("J."), or the whole family name
    with its prefix ("de Jong") only where its data agreement says so (single sign-on clients
    registered with the full name). The API and feed always send the initial: they reach the
    publisher for every child ahead of any sign-in."""
    if full:
        return " ".join(part for part in (prefix, last_name) if part)
    return f"{last_name[:1].upper()}." if last_name else ""


@dataclass(frozen=True)
class SchoolRecord:
    id: str
    name: str
    brin6: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "brin6": self.brin6}


@dataclass(frozen=True)
class GroupRecord:
    id: str
    school_id: str
    name: str
    year_group: str  # the EDEXML jaargroep: 1-8, C for a combination group; "" for a cluster
    kind: str  # "group" | "cluster"
    active: bool = True

    def as_json(self) -> dict[str, Any]:
        # Written out: dataclasses.asdict deep-copies, and a comparison makes thousands.
        return {"id": self.id, "school_id": self.school_id, "name": self.name,
                "year_group": self.year_group, "kind": self.kind, "active": self.active}


@dataclass(frozen=True)
class PersonRecord:
    id: str  # the `sub` of the publisher's ID tokens
    school_id: str
    role: str  # "pupil" | "teacher"
    given_name: str
    family_name: str
    year_group: str  # a pupil's jaargroep; "" for a teacher
    group_ids: tuple[str, ...] = ()
    active: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "school_id": self.school_id, "role": self.role,
                "given_name": self.given_name, "family_name": self.family_name,
                "year_group": self.year_group, "group_ids": list(self.group_ids),
                "active": self.active}


@dataclass
class PublisherView:
    """What one publisher sees of one school now. Keys are local ("g:<group pk>",
    "u:<user pk>"), for Klaspoort's own bookkeeping; records carry the publisher's ids."""

    publisher_id: int
    school: School
    school_record: SchoolRecord | None  # None: the school does not consent
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    people: dict[str, PersonRecord] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        return self.school_record is not None


def consenting_publisher_ids(school: School) -> set[int]:
    """The publishers this school consents to now."""
    return set(for_school(PublisherConsent, school).filter(
        withdrawn_at__isnull=True).values_list("publisher_id", flat=True))


def consenting_school_ids(publisher_id: int) -> list[int]:
    """The schools that consent to this publisher now, in a stable order."""
    return sorted(set(PublisherConsent.objects.filter(
        publisher_id=publisher_id, withdrawn_at__isnull=True).values_list(
        "school_id", flat=True)))


def visible_group_ids(school: School, publisher_ids: Iterable[int], day: datetime.date
                      ) -> dict[int, set[int]]:
    """Per publisher, the active groups linked to one of its running per-group licences (the
    links that count in access_for_school)."""
    result: dict[int, set[int]] = defaultdict(set)
    rows = GroupLicence.objects.filter(
        running_q(day, "contract__"), contract__school=school,
        contract__contract_type=Contract.Type.GROUP, contract__publisher_id__in=list(
            publisher_ids), removed_at__isnull=True, group__active=True,
    ).values_list("contract__publisher_id", "group_id")
    for publisher_id, group_id in rows:
        result[publisher_id].add(group_id)
    return result


def views_of_school(school: School, publisher_ids: Iterable[int], *,
                    day: datetime.date | None = None,
                    user_ids: Collection[int] | None = None,
                    consenting: set[int] | None = None,
                    visible: dict[int, set[int]] | None = None) -> dict[int, PublisherView]:
    """What each of these publishers sees of the school (see the module's rule), computed
    together: the school's access is read once, whatever the number of publishers. With
    `user_ids`, the views hold only those people (and every visible group): the part of the
    view a change touched, for a comparison of that part. `consenting` (the school's
    consenting publishers) and `visible` (visible_group_ids for these publishers and day) may
    be passed by a caller that has just read them in the same transaction."""
    day = day or timezone.localdate()
    wanted = set(publisher_ids)
    consenting = (consenting_publisher_ids(school) if consenting is None else consenting) & wanted
    views = {pid: PublisherView(pid, school, None) for pid in wanted}
    if not consenting:
        return views
    access = access_for_school(school, today=day, user_ids=user_ids)
    group_ids = ({pid: groups for pid, groups in visible.items() if pid in consenting}
                 if visible is not None else visible_group_ids(school, consenting, day))
    all_group_ids = set().union(*group_ids.values()) if group_ids else set()
    groups = {pk: (name, jaargroep, kind) for pk, name, jaargroep, kind in for_school(
        Group, school).filter(pk__in=all_group_ids).values_list(
        "pk", "name", "jaargroep", "kind")}
    people = _people(school, access, consenting, user_ids)
    for publisher_id in consenting:
        ids = PublisherIds(publisher_id)
        school_ref = ids.school(school.pk)
        view = views[publisher_id]
        view.school_record = SchoolRecord(school_ref, school.name, school.brin6)
        mine = group_ids.get(publisher_id, set())
        group_refs = {pk: ids.group(pk) for pk in mine}
        for pk in sorted(mine):
            name, jaargroep, kind = groups[pk]
            view.groups[f"g:{pk}"] = GroupRecord(
                group_refs[pk], school_ref, name,
                jaargroep if kind == Group.Kind.GROUP else "", kind)
        for person in people:
            if publisher_id not in person.publishers:
                continue
            view.people[f"u:{person.user_id}"] = person.record(ids.subject(person.user_id),
                                                               school_ref, group_refs)
    return views


def view_of(publisher_id: int, school: School, *, day: datetime.date | None = None
            ) -> PublisherView:
    """What one publisher sees of one school now."""
    return views_of_school(school, [publisher_id], day=day)[publisher_id]


@dataclass
class _Person:
    user_id: int
    role: str
    first_name: str
    prefix: str
    last_name: str
    year_group: str
    group_ids: set[int]
    publishers: set[int]

    def record(self, subject: str, school_ref: str, group_refs: dict[int, str]
               ) -> PersonRecord:
        return PersonRecord(
            subject, school_ref, self.role, self.first_name,
            family_name_shown(self.prefix, self.last_name), self.year_group,
            tuple(sorted(group_refs[pk] for pk in self.group_ids if pk in group_refs)))


def _publishers_of(access: Access | None, consenting: set[int]) -> set[int]:
    if access is None or not access.products:
        return set()
    return {p.product.publisher_id for p in access.products if p.product.publisher_id in
            consenting}


def _people(school: School, access: dict[int, Access], consenting: set[int],
            user_ids: Collection[int] | None = None) -> list[_Person]:
    """The school's active pupils and teachers (or those of `user_ids`) who may open a product
    of one of these publishers today, with their groups and clusters."""
    clusters: dict[int, set[int]] = defaultdict(set)
    for pupil_id, group_id in PupilCluster.objects.filter(group__school=school).values_list(
            "pupil_id", "group_id"):
        clusters[pupil_id].add(group_id)
    pupils = for_school(Pupil, school).filter(active=True)
    teachers = for_school(Teacher, school).filter(active=True)
    if user_ids is not None:
        pupils = pupils.filter(user_id__in=list(user_ids))
        teachers = teachers.filter(user_id__in=list(user_ids))
    people = []
    for pk, user_id, first, prefix, last, jaargroep, group_id in pupils.values_list(
            "pk", "user_id", "first_name", "prefix", "last_name", "jaargroep",
            "group_id").order_by("pk"):
        publishers = _publishers_of(access.get(user_id), consenting)
        if publishers:
            groups = clusters.get(pk, set()) | ({group_id} if group_id else set())
            people.append(_Person(user_id, PUPIL, first, prefix, last, jaargroep, groups,
                                  publishers))
    teacher_groups: dict[int, set[int]] = defaultdict(set)
    for teacher_id, group_id in TeacherGroup.objects.filter(group__school=school).values_list(
            "teacher_id", "group_id"):
        teacher_groups[teacher_id].add(group_id)
    for pk, user_id, first, prefix, last in teachers.values_list(
            "pk", "user_id", "first_name", "prefix", "last_name").order_by("pk"):
        publishers = _publishers_of(access.get(user_id), consenting)
        if publishers:
            people.append(_Person(user_id, TEACHER, first, prefix, last, "",
                                  teacher_groups.get(pk, set()), publishers))
    return people


def visible_group_ids_of_person(publisher_id: int, school: School, group_ids: Iterable[int], *,
                                day: datetime.date | None = None,
                                kept: Kept | None = None) -> set[int]:
    """Which of a person's groups the publisher sees (for the `groups` claim of single sign-on:
    the groups the feed also names). With `kept` (a browser's request), the school's visible
    groups as kept under the access epoch: every pupil of the school signing in at the
    publisher asks the same question."""
    day = day or timezone.localdate()

    def read() -> set[int]:
        return visible_group_ids(school, [publisher_id], day).get(publisher_id, set())

    seen = read() if kept is None else kept.get(
        f"visible-groups:{school.pk}:{publisher_id}:{day.isoformat()}", read)
    return seen & set(group_ids)


def members_of_groups(school: School, group_ids: Collection[int]) -> set[int]:
    """The user ids of everyone in these groups of the school: pupils placed in them, pupils in
    them as a cluster, their teachers; active or not (a comparison of what changed in a group
    must also find who left it)."""
    wanted = list(group_ids)
    if not wanted:
        return set()
    members = set(for_school(Pupil, school).filter(group_id__in=wanted).values_list(
        "user_id", flat=True))
    members |= set(PupilCluster.objects.filter(group__school=school, group_id__in=wanted)
                   .values_list("pupil__user_id", flat=True))
    members |= set(TeacherGroup.objects.filter(group__school=school, group_id__in=wanted)
                   .values_list("teacher__user_id", flat=True))
    return members


def is_gone(local_key: str) -> bool:
    """Whether what a local key names is no longer active at its school (left the school,
    group dissolved): the feed says *deactivated* instead of *removed*."""
    kind, _sep, pk = local_key.partition(":")
    if kind == "g":
        return not Group.objects.filter(pk=pk, active=True).exists()
    if kind == "u":
        return not (Pupil.objects.filter(user_id=pk, active=True).exists()
                    or Teacher.objects.filter(user_id=pk, active=True).exists())
    return False
