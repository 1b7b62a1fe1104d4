"""OneRoster 1.2 Rostering, read (issue 13, decision 0033): what a publisher sees, as
OneRoster objects.

There is no second copy of who-sees-what here: every object is made from the publisher's
PublishedRecord rows, the view the change feed has told it (licences.publisher_view is THE
rule; exchange.feed keeps those rows current after every change and each night). So a
OneRoster client and a feed client of the same publisher always see the same schools,
classes and people, with the same pairwise ids, and `dateLastModified` is the moment of the
feed's last event about the object.

Mapping (decision 0033): a school → an org of type school; the Dutch school year
(1 August to 31 July) → one academicSession of type schoolYear with one term spanning it;
a group → a homeroom class, a cluster → a scheduled class; one course per school and
jaargroep (combination groups and clusters each have one); people → users with one role at
their school; membership of a group or cluster → an enrollment. Demographics are never given.

Filtering, sorting, paging and field selection follow the REST binding §3 and run over the
objects themselves, so every field of a type can be filtered and sorted on.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from klaspoort.exchange.models import FeedEvent, PublishedRecord
from klaspoort.schools.selectors import school_year_start

Entity = FeedEvent.Entity
Obj = dict[str, Any]

BASE_PATH = "/ims/oneroster/rostering/v1p2"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
INT32_MAX = 2**31 - 1

# Dutch groep 1-8 as CEDS grade levels (the ages match: groep 1 is 4 years old, groep 3 is the
# American first grade).
GRADES = {"1": "PK", "2": "KG", "3": "01", "4": "02", "5": "03", "6": "04", "7": "05",
          "8": "06"}
# The properties of each type in the official document (UserDType, ClassDType, …): what
# `filter`, `sort` and `fields` may name. Fields Klaspoort never fills may still be named;
# they match nothing.
_REFS = ("href", "sourcedId", "type")
PROPERTIES: dict[str, tuple[str, ...]] = {
    "org": ("sourcedId", "status", "dateLastModified", "metadata", "name", "type",
            "identifier", "parent", "children"),
    "academicSession": ("sourcedId", "status", "dateLastModified", "metadata", "title",
                        "startDate", "endDate", "type", "parent", "children", "schoolYear"),
    "course": ("sourcedId", "status", "dateLastModified", "metadata", "title", "schoolYear",
               "courseCode", "grades", "subjects", "org", "subjectCodes", "resources"),
    "class": ("sourcedId", "status", "dateLastModified", "metadata", "title", "classCode",
              "classType", "location", "grades", "subjects", "course", "school", "terms",
              "subjectCodes", "periods", "resources"),
    "user": ("sourcedId", "status", "dateLastModified", "metadata", "userMasterIdentifier",
             "username", "userIds", "enabledUser", "givenName", "familyName", "middleName",
             "preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns",
             "roles", "userProfiles", "primaryOrg", "identifier", "email", "sms", "phone",
             "agents", "grades", "password", "resources"),
    "enrollment": ("sourcedId", "status", "dateLastModified", "metadata", "user", "class",
                   "school", "role", "primary", "beginDate", "endDate"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "org": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier"),
    "academicSession": ("sourcedId", "status", "dateLastModified", "title", "startDate",
                        "endDate", "type", "schoolYear"),
    "course": ("sourcedId", "status", "dateLastModified", "title", "courseCode"),
    "class": ("sourcedId", "status", "dateLastModified", "title", "course", "school", "terms"),
    "user": ("sourcedId", "status", "dateLastModified", "enabledUser", "givenName",
             "familyName", "roles"),
    "enrollment": ("sourcedId", "status", "dateLastModified", "user", "class", "school",
                   "role"),
}
# Sub-fields a filter or sort may name with a dot (`school.sourcedId`, `roles.role`).
_SUBFIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "org": {"parent": _REFS, "children": _REFS},
    "academicSession": {"parent": _REFS, "children": _REFS},
    "course": {"schoolYear": _REFS, "org": _REFS, "resources": _REFS},
    "class": {"course": _REFS, "school": _REFS, "terms": _REFS, "resources": _REFS},
    "user": {"roles": ("roleType", "role", "org.href", "org.sourcedId", "org.type",
                       "userProfile", "beginDate", "endDate"),
             "userIds": ("type", "identifier"), "primaryOrg": _REFS, "agents": _REFS,
             "resources": _REFS},
    "enrollment": {"user": _REFS, "class": _REFS, "school": _REFS},
}


class OneRosterError(Exception):
    """A refusal in the spec's imsx_StatusInfoDType: HTTP status, the codeMinor value and the
    message (an English msgid and its parameters: the view gives it in English and Dutch)."""

    def __init__(self, status: int, code_minor: str, message: str,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code_minor = code_minor
        self.message = message
        self.params = params or {}


def not_found() -> OneRosterError:
    # Unknown and not visible (no consent, no licence) are the same answer.
    return OneRosterError(404, "unknownobject", gettext_noop(
        "No such object, or not one you may see."))


# ---------------------------------------------------------------------------------------------
# The school year
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SchoolYear:
    """The Dutch school year: 1 August to 31 July; OneRoster names it by the year it ends."""

    ends: int

    @classmethod
    def of(cls, day: datetime.date) -> SchoolYear:
        # The one rule of the Dutch school year (schools.selectors), never a copy of it.
        return cls(school_year_start(day).year + 1)

    @property
    def year_id(self) -> str:
        return f"schooljaar-{self.ends - 1}-{self.ends}"

    @property
    def term_id(self) -> str:
        return f"{self.year_id}-heel-jaar"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.ends - 1, 8, 1)

    @property
    def end(self) -> datetime.date:
        return datetime.date(self.ends, 7, 31)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


# ---------------------------------------------------------------------------------------------
# The publisher's view as OneRoster objects
# ---------------------------------------------------------------------------------------------
@dataclass
class Roster:
    """Everything one publisher sees (or of one school), as OneRoster objects."""

    base_url: str
    year: SchoolYear
    orgs: list[Obj] = field(default_factory=list)
    courses: list[Obj] = field(default_factory=list)
    classes: list[Obj] = field(default_factory=list)
    users: list[Obj] = field(default_factory=list)
    enrollments: list[Obj] = field(default_factory=list)

    def ref(self, kind: str, collection: str, sourced_id: str) -> Obj:
        return {"href": f"{self.base_url}{BASE_PATH}/{collection}/{sourced_id}",
                "sourcedId": sourced_id, "type": kind}

    def sessions(self) -> list[Obj]:
        year = self.year
        stamp = _stamp(datetime.datetime.combine(year.start, datetime.time(),
                                                 tzinfo=datetime.UTC))
        common = {"status": "active", "dateLastModified": stamp,
                  "startDate": year.start.isoformat(), "endDate": year.end.isoformat(),
                  "schoolYear": str(year.ends)}
        return [
            {"sourcedId": year.year_id, **common, "title": f"Schooljaar {year.ends - 1}-"
             f"{year.ends}", "type": "schoolYear",
             "children": [self.ref("academicSession", "academicSessions", year.term_id)]},
            {"sourcedId": year.term_id, **common, "title": f"Schooljaar {year.ends - 1}-"
             f"{year.ends}, heel jaar", "type": "term",
             "parent": self.ref("academicSession", "academicSessions", year.year_id)},
        ]

    def terms(self) -> list[Obj]:
        return [s for s in self.sessions() if s["type"] == "term"]

    def org(self, sourced_id: str) -> Obj:
        for org in self.orgs:
            if org["sourcedId"] == sourced_id:
                return org
        raise not_found()

    def one(self, objects: list[Obj], sourced_id: str) -> Obj:
        for obj in objects:
            if obj["sourcedId"] == sourced_id:
                return obj
        raise not_found()


def _course_key(group: Obj) -> str:
    if group.get("kind") == "cluster":
        return "clusters"
    return f"jg{group.get('year_group') or 'C'}"


def _course_title(key: str) -> tuple[str, str, list[str]]:
    if key == "clusters":
        return "Clusters", "cluster", []
    year_group = key[2:]
    if year_group in GRADES:
        return f"Groep {year_group}", f"groep-{year_group}", [GRADES[year_group]]
    return "Combinatiegroepen", "combinatiegroep", []


def course_id(school_ref: str, key: str) -> str:
    return f"{school_ref}-{key}"


def enrollment_id(class_id: str, user_id: str) -> str:
    return f"{class_id}-{user_id}"


def build(publisher_id: int, *, base_url: str, school_ids: Iterable[int] | None = None,
          day: datetime.date | None = None) -> Roster:
    """The publisher's OneRoster objects, of all the schools it sees or only of these ones
    (database ids), read from what the feed has told it."""
    rows = PublishedRecord.objects.filter(publisher_id=publisher_id)
    events = FeedEvent.objects.filter(publisher_id=publisher_id)
    if school_ids is not None:
        wanted = list(school_ids)
        rows = rows.filter(school_id__in=wanted)
        events = events.filter(school_id__in=wanted)
    records = list(rows.values_list("local_key", "entity", "record"))
    # Grouped in the database, not asked per key: a publisher may see thousands of people.
    modified = dict(events.values("local_key").annotate(last=Max("created_at")).values_list(
        "local_key", "last")) if records else {}
    fallback = timezone.now()
    roster = Roster(base_url, SchoolYear.of(day or timezone.localdate()))
    term = [roster.ref("academicSession", "academicSessions", roster.year.term_id)]
    stamps: dict[str, datetime.datetime] = {}
    groups: dict[str, Obj] = {}
    courses: dict[str, Obj] = {}
    for key, entity, record in sorted(records, key=lambda row: row[0]):
        moment = modified.get(key) or fallback
        stamps[record["id"]] = moment
        status = "active" if record.get("active", True) else "tobedeleted"
        if entity == Entity.SCHOOL:
            roster.orgs.append({"sourcedId": record["id"], "status": status,
                                "dateLastModified": _stamp(moment), "name": record["name"],
                                "type": "school", "identifier": record["brin6"]})
        elif entity == Entity.GROUP:
            groups[record["id"]] = record
            school = roster.ref("org", "schools", record["school_id"])
            ckey = _course_key(record)
            cid = course_id(record["school_id"], ckey)
            title, code, grades = _course_title(ckey)
            course = courses.setdefault(cid, {
                "sourcedId": cid, "status": "active", "dateLastModified": moment,
                "title": title, "schoolYear": roster.ref(
                    "academicSession", "academicSessions", roster.year.year_id),
                "courseCode": code, "grades": grades, "org": school})
            course["dateLastModified"] = max(course["dateLastModified"], moment)
            year_group = record.get("year_group", "")
            roster.classes.append({
                "sourcedId": record["id"], "status": status, "dateLastModified": _stamp(moment),
                "title": record["name"], "classCode": record["name"],
                "classType": "scheduled" if record.get("kind") == "cluster" else "homeroom",
                "grades": [GRADES[year_group]] if year_group in GRADES else [],
                "course": roster.ref("course", "courses", cid), "school": school,
                "terms": term})
    for course in courses.values():
        course["dateLastModified"] = _stamp(course["dateLastModified"])
    roster.courses = sorted(courses.values(), key=lambda course: course["sourcedId"])
    seen: set[str] = set()
    for _key, entity, record in sorted(records, key=lambda row: row[0]):
        if entity != Entity.PERSON or record["id"] in seen:
            continue
        seen.add(record["id"])
        moment = stamps[record["id"]]
        role = "student" if record["role"] == "pupil" else "teacher"
        school = roster.ref("org", "schools", record["school_id"])
        user_ref = roster.ref("user", "users", record["id"])
        year_group = record.get("year_group", "")
        user: Obj = {
            "sourcedId": record["id"],
            "status": "active" if record.get("active", True) else "tobedeleted",
            "dateLastModified": _stamp(moment), "enabledUser": "true",
            "givenName": record["given_name"], "familyName": record["family_name"],
            "roles": [{"roleType": "primary", "role": role, "org": school}],
            "primaryOrg": school}
        if role == "student" and year_group in GRADES:
            user["grades"] = [GRADES[year_group]]
        roster.users.append(user)
        for group_id in record.get("group_ids", []):
            if group_id not in groups:
                continue
            roster.enrollments.append({
                "sourcedId": enrollment_id(group_id, record["id"]), "status": "active",
                "dateLastModified": _stamp(max(moment, stamps[group_id])),
                "user": user_ref, "class": roster.ref("class", "classes", group_id),
                "school": school, "role": role})
    return roster


def school_of(publisher_id: int, sourced_id: str, entity: str) -> int | None:
    """The database id of the school of an object the publisher sees, by its id for the
    publisher (None when it sees no such object: unknown and invisible are the same)."""
    return PublishedRecord.objects.filter(
        publisher_id=publisher_id, entity=entity, entity_ref=sourced_id[:64]).values_list(
        "school_id", flat=True).first()


# ---------------------------------------------------------------------------------------------
# Query parameters: paging, sorting, filtering, field selection (REST binding §3)
# ---------------------------------------------------------------------------------------------
_PREDICATE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'([^']*)'\s*")
_JOIN = re.compile(r"(AND|OR)(?=\s)")


@dataclass(frozen=True)
class Predicate:
    path: str
    op: str
    value: str


@dataclass
class Query:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    descending: bool = False
    # OR of AND-groups: AND binds tighter, as in SQL.
    filter: list[list[Predicate]] = field(default_factory=list)
    fields: tuple[str, ...] = ()


def _allowed_path(kind: str, path: str) -> bool:
    head, _dot, rest = path.partition(".")
    if head not in PROPERTIES[kind]:
        return False
    return not rest or rest in _SUBFIELDS[kind].get(head, ())


def parse_filter(kind: str, text: str) -> list[list[Predicate]]:
    """RULE (§3.3): `field op 'value'`, joined by AND / OR, with the operators = != > >= < <=
    and ~ (contains); fields are the type's properties (dotted into references: school.
    sourcedId, roles.role). Anything else is invalid_filter_field."""
    groups: list[list[Predicate]] = [[]]
    position = 0
    while True:
        match = _PREDICATE.match(text, position)
        if match is None:
            raise OneRosterError(400, "invalid_filter_field", gettext_noop(
                "The filter is not of the form field='value' [AND|OR field='value' …]."))
        path, op, value = match.groups()
        if not _allowed_path(kind, path):
            raise OneRosterError(400, "invalid_filter_field", gettext_noop(
                "A %(type)s cannot be filtered on %(field)s."), {"type": kind,
                                                                "field": path[:60]})
        groups[-1].append(Predicate(path, op, value))
        position = match.end()
        if position == len(text):
            return groups
        join = _JOIN.match(text, position)
        if join is None:
            raise OneRosterError(400, "invalid_filter_field", gettext_noop(
                "Join conditions with AND or OR."))
        if join.group(1) == "OR":
            groups.append([])
        position = join.end()


def _int(name: str, raw: str, lowest: int) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", raw.strip()) or not (
            lowest <= int(raw) <= INT32_MAX):
        raise OneRosterError(400, "invaliddata", gettext_noop(
            "%(name)s must be a whole number from %(lowest)d."), {"name": name,
                                                                  "lowest": lowest})
    return int(raw)


COLLECTION_PARAMS = ("limit", "offset", "sort", "orderBy", "filter", "fields")


def parse_query(kind: str, params: Any, *, collection: bool) -> Query:
    """The query parameters of a request, checked: unknown parameters, numbers out of range,
    an orderBy other than asc/desc, fields the type does not have are all refused (400)."""
    allowed = COLLECTION_PARAMS if collection else ("fields",)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise OneRosterError(400, "invaliddata", gettext_noop("Unknown parameter: %(name)s."),
                             {"name": unknown[0][:40]})
    query = Query()
    for name in params:
        if len(params.getlist(name)) > 1 and name != "fields":
            raise OneRosterError(400, "invaliddata", gettext_noop(
                "%(name)s may be given once."), {"name": name[:40]})
    if "limit" in params:
        query.limit = min(_int("limit", params["limit"], 1), MAX_LIMIT)
    if "offset" in params:
        query.offset = _int("offset", params["offset"], 0)
    if "orderBy" in params:
        if params["orderBy"] not in ("asc", "desc"):
            raise OneRosterError(400, "invaliddata", gettext_noop("orderBy is asc or desc."))
        query.descending = params["orderBy"] == "desc"
    if "sort" in params:
        sort = params["sort"].strip()
        if not _allowed_path(kind, sort):
            raise OneRosterError(400, "invalid_selection_field", gettext_noop(
                "A %(type)s cannot be sorted on %(field)s."), {"type": kind,
                                                              "field": sort[:60]})
        query.sort = sort
    if "filter" in params:
        query.filter = parse_filter(kind, params["filter"].strip())
    if "fields" in params:
        names = [name.strip() for value in params.getlist("fields")
                 for name in value.split(",") if name.strip()]
        bad = [name for name in names if name not in PROPERTIES[kind]]
        if bad:
            raise OneRosterError(400, "invalid_selection_field", gettext_noop(
                "A %(type)s has no field %(field)s."), {"type": kind, "field": bad[0][:60]})
        query.fields = tuple(names)
    return query


def _values(obj: Any, path: str) -> list[str]:
    """The strings at a dotted path (lists are looked into: roles.role is every role)."""
    current: list[Any] = [obj]
    for part in path.split("."):
        following: list[Any] = []
        for value in current:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and part in item:
                    following.append(item[part])
        current = following
    flat: list[str] = []
    for value in current:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                flat.append(item)
    return flat


_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "~": lambda a, b: b.casefold() in a.casefold(),
}


def _holds(obj: Obj, predicate: Predicate) -> bool:
    values = _values(obj, predicate.path)
    if predicate.op == "!=":
        return predicate.value not in values
    compare = _COMPARE[predicate.op]
    return any(compare(value, predicate.value) for value in values)


def select(kind: str, objects: list[Obj], query: Query) -> tuple[list[Obj], int]:
    """RULE: filter, then sort (by sourcedId unless asked; ties keep sourcedId order), then
    the page; returns the page (with only the fields asked for, besides the ones the
    document requires) and the number of objects the filter let through."""
    if query.filter:
        objects = [obj for obj in objects
                   if any(all(_holds(obj, p) for p in group) for group in query.filter)]
    objects = sorted(objects, key=lambda obj: obj["sourcedId"])
    if query.sort:
        sort = query.sort
        objects.sort(key=lambda obj: (_values(obj, sort) or [""])[0], reverse=query.descending)
    elif query.descending:
        objects.reverse()
    total = len(objects)
    page = objects[query.offset:query.offset + query.limit]
    return [shaped(kind, obj, query) for obj in page], total


def shaped(kind: str, obj: Obj, query: Query) -> Obj:
    if not query.fields:
        return obj
    keep = set(query.fields) | set(REQUIRED[kind])
    return {name: value for name, value in obj.items() if name in keep}
