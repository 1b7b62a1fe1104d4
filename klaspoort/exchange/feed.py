"""The publisher feed's writes (R6, issue 13, decision 0030): tell each publisher what changed
in what it sees.

Events are never written by hand at the places where things change. After any change that can
alter what a publisher sees (a roster import, a licence linked or unlinked, a contract changed,
a consent given or withdrawn, and each night for contracts that start or end by date), the
school's current view per publisher (licences.publisher_view) is compared with what that
publisher was last told (PublishedRecord), and the difference becomes the events. So the feed
adds up to the snapshot by construction, a change is never told twice, and whatever moment a
change happens, the next comparison catches it.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from klaspoort.exchange.models import FeedEvent, FeedState, PublishedRecord
from klaspoort.exchange.selectors import json_text
from klaspoort.exchange.signals import feed_advanced
from klaspoort.licences.models import Contract
from klaspoort.licences.publisher_view import (
    PublisherView,
    consenting_publisher_ids,
    is_gone,
    members_of_groups,
    views_of_school,
    visible_group_ids,
)
from klaspoort.pseudonyms import school_id_for
from klaspoort.schools.models import PublisherConsent, School

logger = logging.getLogger(__name__)

Action = FeedEvent.Action
Entity = FeedEvent.Entity
# Adds go school → groups → people (a person's groups are known before the person); removals
# the other way round (people leave before their group, the school last).
_ADD_ORDER = {"s": 0, "g": 1, "u": 2}
# Above this many people a partial comparison reads most of the school anyway, in queries with
# long IN lists: the whole school is compared instead.
PARTIAL_AT_MOST = 400


@dataclass(frozen=True)
class Touched:
    """The part of a school a change may have altered: groups and people (by account) a roster
    import added, changed, moved or deactivated. Everything else of the school is as the last
    comparison left it, so comparing this part is comparing the whole."""

    group_ids: frozenset[int]
    user_ids: frozenset[int]

    def __or__(self, other: Touched) -> Touched:
        return Touched(self.group_ids | other.group_ids, self.user_ids | other.user_ids)

    def as_json(self) -> dict[str, list[int]]:
        return {"group_ids": sorted(self.group_ids), "user_ids": sorted(self.user_ids)}

    @classmethod
    def from_json(cls, data: dict[str, list[int]]) -> Touched:
        return cls(frozenset(data["group_ids"]), frozenset(data["user_ids"]))


def _current(view: PublisherView) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """The view as {local key: (entity, the publisher's id, record)}."""
    if view.school_record is None:
        return {}
    current: dict[str, tuple[str, str, dict[str, Any]]] = {
        f"s:{view.school.pk}": (Entity.SCHOOL, view.school_record.id,
                                view.school_record.as_json())}
    for key, group in view.groups.items():
        current[key] = (Entity.GROUP, group.id, group.as_json())
    for key, person in view.people.items():
        current[key] = (Entity.PERSON, person.id, person.as_json())
    return current


@dataclass(frozen=True)
class _Told:
    entity: str
    entity_ref: str
    record: dict[str, Any]


def _order(key: str) -> tuple[int, int]:
    kind, _sep, pk = key.partition(":")
    return _ADD_ORDER.get(kind, 9), int(pk) if pk.isdigit() else 0


def publishers_of(school: School) -> list[int]:
    """The publishers whose view of the school may change: those it consents to now, and those
    that were told about it before (a withdrawal must still reach them)."""
    told = set(PublishedRecord.objects.filter(school=school).values_list(
        "publisher_id", flat=True).distinct())
    return sorted(consenting_publisher_ids(school) | told)


def _lock(publisher_ids: list[int]) -> dict[int, FeedState]:
    """Each publisher's feed row, locked until commit, in ascending order (two transactions
    always lock in the same order, so they cannot deadlock)."""
    for publisher_id in publisher_ids:
        FeedState.objects.get_or_create(publisher_id=publisher_id)
    return {state.publisher_id: state for state in FeedState.objects.select_for_update()
            .filter(publisher_id__in=publisher_ids).order_by("publisher_id")}


@transaction.atomic
def publish_school(school: School, *, publisher_ids: list[int] | None = None,
                   day: datetime.date | None = None, touched: Touched | None = None) -> int:
    """RULE: every publisher that sees (or saw) the school is told exactly what changed since
    it was last told: *added* with the whole record for what entered its view, *changed* for
    a record that differs, *deactivated* for what left the school itself, *removed* for what
    left its view but not the school (licence ended, group unlinked, consent withdrawn), and
    nothing when nothing changed. Each publisher's events get the next consecutive sequence
    numbers, and its feed row stays locked until commit so they become visible in order.
    Earlier records of what left the view are blanked (least data; the last event tells the
    publisher to delete). Returns the number of events written.

    With `touched` (what a roster import changed), only that part is compared: the school, its
    groups, and the touched people plus everyone in a touched group or in a group that entered
    or left the view (an automatic licence link follows the roster in the same import). The
    rest of the view cannot have changed, so the events are the same as a whole comparison's."""
    wanted = sorted(set(publisher_ids if publisher_ids is not None else publishers_of(school)))
    if not wanted:
        return 0
    states = _lock(wanted)
    # Read after the lock: a comparison that started earlier has committed by now, so this
    # one sees its result and the feed never steps back to older data.
    user_ids = _people_to_compare(school, wanted, day, touched) if touched else None
    views = views_of_school(school, wanted, day=day, user_ids=user_ids)
    written = 0
    for publisher_id in wanted:
        written += _publish(states[publisher_id], school, views[publisher_id], user_ids)
    return written


def _people_to_compare(school: School, publisher_ids: list[int], day: datetime.date | None,
                       touched: Touched) -> set[int] | None:
    """The accounts a partial comparison looks at, or None for the whole school: whenever a
    publisher's consent and what it was told of the school disagree (consent just given or
    withdrawn, and not yet compared), and when a change touched many people."""
    told_schools = set(PublishedRecord.objects.filter(
        publisher_id__in=publisher_ids, school=school, entity=Entity.SCHOOL).values_list(
        "publisher_id", flat=True))
    if consenting_publisher_ids(school) & set(publisher_ids) != told_schools:
        return None
    visible = visible_group_ids(school, publisher_ids, day or timezone.localdate())
    told: dict[int, set[int]] = {}
    for publisher_id, key in PublishedRecord.objects.filter(
            publisher_id__in=publisher_ids, school=school, entity=Entity.GROUP).values_list(
            "publisher_id", "local_key"):
        told.setdefault(publisher_id, set()).add(int(key.partition(":")[2]))
    groups = set(touched.group_ids)
    for publisher_id in publisher_ids:
        groups |= visible.get(publisher_id, set()) ^ told.get(publisher_id, set())
    user_ids = set(touched.user_ids) | members_of_groups(school, groups)
    return user_ids if len(user_ids) <= PARTIAL_AT_MOST else None


def _publish(state: FeedState, school: School, view: PublisherView,
             user_ids: set[int] | None = None) -> int:
    publisher_id = state.publisher_id
    current = _current(view)
    told = PublishedRecord.objects.filter(publisher_id=publisher_id, school=school)
    if user_ids is not None:
        # The school and its groups whole (a few dozen rows), people only those compared.
        told = told.filter(Q(entity__in=[Entity.SCHOOL, Entity.GROUP])
                           | Q(local_key__in=[f"u:{pk}" for pk in user_ids]))
    # Plain values, not model instances: a school has a thousand rows and most are unchanged.
    published = {key: _Told(entity, ref, record) for key, entity, ref, record in
                 told.values_list("local_key", "entity", "entity_ref", "record")}
    school_ref = school_id_for(publisher_id, school.pk)
    events: list[tuple[str, str, str, str, dict[str, Any] | None]] = []
    for key in sorted(set(current) - set(published), key=_order):
        entity, ref, record = current[key]
        events.append((key, entity, ref, Action.ADDED, record))
    for key in sorted(set(current) & set(published), key=_order):
        entity, ref, record = current[key]
        if record != published[key].record:
            events.append((key, entity, ref, Action.CHANGED, record))
    gone = sorted(set(published) - set(current), key=_order, reverse=True)
    for key in gone:
        row = published[key]
        if row.entity != Entity.SCHOOL and is_gone(key):
            events.append((key, row.entity, row.entity_ref, Action.DEACTIVATED,
                           {**row.record, "active": False}))
        else:
            events.append((key, row.entity, row.entity_ref, Action.REMOVED, None))
    if not events:
        return 0
    if gone:
        FeedEvent.objects.filter(publisher_id=publisher_id, local_key__in=gone).update(
            record=None)
        PublishedRecord.objects.filter(publisher_id=publisher_id, local_key__in=gone).delete()
    first = state.last_sequence + 1
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    _insert(FeedEvent, ("publisher_id", "sequence", "school_id", "school_ref", "entity",
                        "entity_ref", "local_key", "action", "record", "created_at"),
            [(publisher_id, first + i, school.pk, school_ref, entity, ref, key, action,
              _dumps(record), now)
             for i, (key, entity, ref, action, record) in enumerate(events)])
    state.last_sequence = first + len(events) - 1
    state.save(update_fields=["last_sequence"])
    last = state.last_sequence
    transaction.on_commit(lambda: feed_advanced.send(
        sender=FeedState, publisher_id=publisher_id, last_sequence=last))
    upserts = [(key, current[key]) for key, _e, _r, action, _rec in events
               if action in (Action.ADDED, Action.CHANGED)]
    changed = [key for key, _value in upserts if key in published]
    if changed:
        PublishedRecord.objects.filter(publisher_id=publisher_id,
                                       local_key__in=changed).delete()
    _insert(PublishedRecord, ("publisher_id", "school_id", "local_key", "entity", "entity_ref",
                              "record"),
            [(publisher_id, school.pk, key, entity, ref, _dumps(record))
             for key, (entity, ref, record) in upserts])
    return len(events)


def _dumps(record: dict[str, Any] | None) -> str | None:
    return None if record is None else json.dumps(record, ensure_ascii=False)


def _insert(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Many rows in one statement per thousand, written out: a first comparison of a school
    writes two thousand rows, and building model instances and their SQL value by value was
    most of its time. Columns are the models' own, values parameters; JSON is passed as text
    (a JSON parameter on PostgreSQL, text on SQLite)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    json_at = {i for i, column in enumerate(columns) if column == "record"}
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    one = "(" + ", ".join(f"%s{cast}" if i in json_at else "%s"
                          for i in range(len(columns))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                           + ", ".join([one] * len(chunk)),
                           [value for row in chunk for value in row])


def publish_everything(*, day: datetime.date | None = None, whole: bool = False) -> int:
    """RULE: once a night each publisher is told what the calendar changed: contracts start
    and end by date, without any write that would trigger a comparison, so every school
    where one of the publisher's contracts started or ended since the last night's comparison
    is compared again (each in its own transaction). Everything else that changes a view
    compares its school when it commits. A publisher whose last night is unknown (the first
    night, or after a comparison failed), or with `whole`, has every school it sees or saw
    compared."""
    day = day or timezone.localdate()
    publisher_ids = set(PublisherConsent.objects.filter(withdrawn_at__isnull=True).values_list(
        "publisher_id", flat=True)) | set(PublishedRecord.objects.values_list(
            "publisher_id", flat=True).distinct())
    for publisher_id in publisher_ids:
        FeedState.objects.get_or_create(publisher_id=publisher_id)
    written = 0
    for state in FeedState.objects.filter(publisher_id__in=publisher_ids).order_by(
            "publisher_id"):
        since = None if whole else state.compared_on
        for school in School.objects.filter(pk__in=_schools_to_compare(
                state.publisher_id, since, day)).order_by("pk"):
            written += publish_school(school, publisher_ids=[state.publisher_id], day=day)
        # Only forward: a comparison that failed meanwhile set it to None, and that must stay.
        FeedState.objects.filter(publisher_id=state.publisher_id,
                                 compared_on=state.compared_on).update(compared_on=day)
    return written


def _schools_to_compare(publisher_id: int, since: datetime.date | None,
                        day: datetime.date) -> set[int]:
    """The schools the publisher sees or saw (all of them when `since` is None), or those of
    them where one of its contracts began to run or stopped counting after `since`, up to
    `day`: started on a day in (since, day], or ended (end date or cancellation) on a day in
    [since, day)."""
    seen = set(PublisherConsent.objects.filter(
        publisher_id=publisher_id, withdrawn_at__isnull=True).values_list(
        "school_id", flat=True)) | set(PublishedRecord.objects.filter(
            publisher_id=publisher_id, entity=Entity.SCHOOL).values_list("school_id", flat=True))
    if since is None or since > day:
        return seen
    turned = (Q(start__gt=since, start__lte=day) | Q(end__gte=since, end__lt=day)
              | Q(cancelled_until__gte=since, cancelled_until__lt=day))
    return seen & set(Contract.objects.filter(turned, publisher_id=publisher_id,
                                              school__isnull=False).values_list(
        "school_id", flat=True))


# --- after a change: compare once, when the transaction has committed ------------------------

_PENDING_ATTR = "_klaspoort_feed_pending"


def publish_after_commit(school_id: int | None, touched: Touched | None = None) -> None:
    """RULE: a change that may alter what publishers see of a school has them told as soon as
    its transaction commits (within the same request or task), once per school however many
    rows changed: the part `touched` names when every change to it said what it touched, else
    the whole school. A transaction that rolls back leaves the school marked, which only
    costs one comparison that finds nothing at the next commit."""
    if school_id is None:
        return
    pending: dict[int, Touched | None] = getattr(connection, _PENDING_ATTR, None) or {}
    if school_id in pending:
        earlier = pending[school_id]
        pending[school_id] = None if earlier is None or touched is None else earlier | touched
    else:
        pending[school_id] = touched
    setattr(connection, _PENDING_ATTR, pending)
    transaction.on_commit(_publish_pending)


def _publish_pending() -> None:
    pending: dict[int, Touched | None] = getattr(connection, _PENDING_ATTR, None) or {}
    setattr(connection, _PENDING_ATTR, {})
    if not pending:
        return
    # A task: with a broker the comparison runs beside the import or the page that changed
    # something, which then costs what it did before; eager (the embedded default, the
    # tests), it runs here and now.
    from klaspoort.exchange.tasks import publish_schools

    publish_schools.delay(sorted(pending), {
        str(pk): touched.as_json() for pk, touched in pending.items() if touched is not None})


def publish_schools(school_ids: list[int],
                    touched: dict[int, Touched] | None = None) -> int:
    """Compare these schools for their publishers (after a change committed), each in its own
    transaction: the part `touched` names for a school, else the whole school. A school that
    fails is logged and left to the nightly comparison: the change itself has committed, and
    the feed must never break an import or a coordinator's page."""
    written = 0
    for school in School.objects.filter(pk__in=school_ids).order_by("pk"):
        try:
            written += publish_school(school, touched=(touched or {}).get(school.pk))
        except Exception:
            logger.exception("publisher feed: comparing school %s failed", school.pk)
            _compare_everything_tonight(school)
    return written


def _compare_everything_tonight(school: School) -> None:
    """A comparison failed: the school's publishers forget their last nightly comparison, so
    the next night compares every school they see, this one included, and the change that was
    missed reaches them then."""
    try:
        FeedState.objects.filter(publisher_id__in=publishers_of(school)).update(
            compared_on=None)
    except Exception:
        logger.exception("publisher feed: could not mark school %s for tonight", school.pk)


# --- snapshots: compare, then read under the lock ------------------------------------------

@dataclass
class Snapshot:
    """A school as a publisher sees it, as JSON texts straight from the database (a 1,000-pupil
    school is a thousand records: decoding and encoding them again would be most of the cost)."""

    sequence: int
    school: str
    groups: list[str]
    people: list[str]

    def parsed(self) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        return (json.loads(self.school), [json.loads(g) for g in self.groups],
                [json.loads(p) for p in self.people])


def _school_by_ref(publisher_id: int, school_ref: str) -> School | None:
    row = PublishedRecord.objects.filter(publisher_id=publisher_id, entity=Entity.SCHOOL,
                                         entity_ref=school_ref[:64]).first()
    return School.objects.filter(pk=row.school_id).first() if row is not None else None


@transaction.atomic
def snapshot(publisher_id: int, school_ref: str) -> Snapshot | None:
    """RULE: a school as the publisher sees it now, and the sequence number it stands at:
    the school is compared first and the feed stays locked while its records are read, so the
    events after that number are exactly what happens after the snapshot. None for a school
    the publisher does not see (unknown, or no consent: the same answer). Records in a stable
    order: groups, then people, each by the publisher's id."""
    school = _school_by_ref(publisher_id, school_ref)
    if school is None:
        return None
    publish_school(school, publisher_ids=[publisher_id])
    sequence = FeedState.objects.select_for_update().get(publisher_id=publisher_id).last_sequence
    rows = (PublishedRecord.objects.filter(publisher_id=publisher_id, school=school)
            .order_by("entity", "entity_ref")
            .values_list("entity", json_text("record")))
    parts: dict[str, list[str]] = {Entity.SCHOOL: [], Entity.GROUP: [], Entity.PERSON: []}
    for entity, text in rows:
        parts[entity].append(text)
    if not parts[Entity.SCHOOL]:
        return None
    return Snapshot(sequence, parts[Entity.SCHOOL][0], parts[Entity.GROUP],
                    parts[Entity.PERSON])
