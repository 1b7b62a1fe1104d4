"""The publisher feed's writes (R6, issue 13, decision 0030): tell each publisher what changed
in what it sees.

Events are never written by hand at the places where things change. After any change that can
alter what a publisher sees (a roster import, a licence linked or unlinked, a contract changed,
a consent given or withdrawn, and each night for contracts that start or end by date), the
school's current view per publisher (licences.publisher_view) is compared with what that
publisher was last told (PublishedRecord), and the difference becomes the events. So the feed
adds up to the snapshot by construction, a change is never told twice, and whatever moment a
change happens, the next comparison catches it. Each change is written down in its own
transaction (PendingComparison, an outbox) and compared once it has committed; during the
nightly run after the last import (decision 0040).
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

from klaspoort.exchange.models import (
    FeedEvent,
    FeedState,
    PendingComparison,
    PublishedRecord,
)
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
from klaspoort.processes import in_processes
from klaspoort.pseudonyms import school_id_for
from klaspoort.schools.models import PublisherConsent, School
from klaspoort.tenancy import for_school

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


def _lock_school(school: School) -> None:
    """The school's comparisons one at a time, until commit: only a comparison of this school
    changes what its publishers were told of it. FOR NO KEY UPDATE of its row, so an import
    inserting rows that refer to the school does not wait for it. Other schools are compared
    at the same time."""
    list(School.objects.select_for_update(no_key=True).filter(pk=school.pk).values_list(
        "pk", flat=True))


def _lock_feeds(publisher_ids: list[int]) -> dict[int, FeedState]:
    """Each publisher's feed row, locked until commit, in ascending order (two transactions
    always lock in the same order, so they cannot deadlock); created the first time."""
    states = {state.publisher_id: state for state in FeedState.objects.select_for_update()
              .filter(publisher_id__in=publisher_ids).order_by("publisher_id")}
    if len(states) == len(publisher_ids):
        return states
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
    numbers, and its feed row stays locked from then until commit so they become visible in
    order. Earlier records of what left the view are blanked (least data; the last event
    tells the publisher to delete). Returns the number of events written.

    With `touched` (what a roster import changed), only that part is compared: the school, its
    groups, and the touched people plus everyone in a touched group or in a group that entered
    or left the view (an automatic licence link follows the roster in the same import). The
    rest of the view cannot have changed, so the events are the same as a whole comparison's."""
    wanted = sorted(set(publisher_ids if publisher_ids is not None else publishers_of(school)))
    if not wanted:
        return 0
    _lock_school(school)
    # Read after the school's lock: a comparison of this school that started earlier has
    # committed by now, so this one sees its result and the feed never steps back to older
    # data. The publishers' feed rows are locked only to write the events: comparisons of
    # other schools read their views meanwhile (decision 0040).
    consenting = consenting_publisher_ids(school)
    user_ids, visible = (_people_to_compare(school, wanted, day, touched, consenting)
                         if touched else (None, None))
    views = views_of_school(school, wanted, day=day, user_ids=user_ids, consenting=consenting,
                            visible=visible)
    found = {publisher_id: _differences(publisher_id, school, views[publisher_id], user_ids)
             for publisher_id in wanted}
    telling = [publisher_id for publisher_id in wanted if found[publisher_id].events]
    if not telling:
        return 0
    states = _lock_feeds(telling)
    return sum(_write(states[publisher_id], school, found[publisher_id])
               for publisher_id in telling)


def _people_to_compare(school: School, publisher_ids: list[int], day: datetime.date | None,
                       touched: Touched, consenting: set[int]
                       ) -> tuple[set[int] | None, dict[int, set[int]] | None]:
    """The accounts a partial comparison looks at, or None for the whole school: whenever a
    publisher's consent and what it was told of the school disagree (consent just given or
    withdrawn, and not yet compared), and when a change touched many people. With them, the
    groups each publisher sees now (read once for the view too)."""
    told_schools: set[int] = set()
    told: dict[int, set[int]] = {}
    for publisher_id, entity, key in for_school(PublishedRecord, school).filter(
            publisher_id__in=publisher_ids, entity__in=[Entity.SCHOOL, Entity.GROUP]
    ).values_list("publisher_id", "entity", "local_key"):
        if entity == Entity.SCHOOL:
            told_schools.add(publisher_id)
        else:
            told.setdefault(publisher_id, set()).add(int(key.partition(":")[2]))
    if consenting & set(publisher_ids) != told_schools:
        return None, None
    visible = visible_group_ids(school, publisher_ids, day or timezone.localdate())
    groups = set(touched.group_ids)
    for publisher_id in publisher_ids:
        groups |= visible.get(publisher_id, set()) ^ told.get(publisher_id, set())
    user_ids = set(touched.user_ids) | members_of_groups(school, groups)
    if len(user_ids) > PARTIAL_AT_MOST:
        return None, None
    return user_ids, visible


@dataclass
class _Differences:
    """What one publisher must be told of one school: its events in order, the records they
    leave it with, and what left its view."""

    events: list[tuple[str, str, str, str, dict[str, Any] | None]]
    current: dict[str, tuple[str, str, dict[str, Any]]]
    published: dict[str, _Told]
    gone: list[str]


def _differences(publisher_id: int, school: School, view: PublisherView,
                 user_ids: set[int] | None) -> _Differences:
    current = _current(view)
    told = for_school(PublishedRecord, school).filter(publisher_id=publisher_id)
    if user_ids is not None:
        # The school and its groups whole (a few dozen rows), people only those compared.
        told = told.filter(Q(entity__in=[Entity.SCHOOL, Entity.GROUP])
                           | Q(local_key__in=[f"u:{pk}" for pk in user_ids]))
    # Plain values, not model instances: a school has a thousand rows and most are unchanged.
    published = {key: _Told(entity, ref, record) for key, entity, ref, record in
                 told.values_list("local_key", "entity", "entity_ref", "record")}
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
    return _Differences(events, current, published, gone)


def _write(state: FeedState, school: School, found: _Differences) -> int:
    """The events with the publisher's next sequence numbers (its feed row is locked), and
    what it was told updated to match."""
    publisher_id = state.publisher_id
    events, current, published, gone = found.events, found.current, found.published, found.gone
    if gone:
        FeedEvent.objects.filter(publisher_id=publisher_id, local_key__in=gone).update(
            record=None)
        PublishedRecord.objects.filter(publisher_id=publisher_id, local_key__in=gone).delete()
    first = state.last_sequence + 1
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    school_ref = school_id_for(publisher_id, school.pk)
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
    is written down when it commits and compared then (publish_pending); what is still pending
    (a comparison that failed, a task that was lost) is compared here first. A publisher
    whose last night is unknown (its first night), or with `whole`, has every school it sees
    or saw compared."""
    day = day or timezone.localdate()
    written = publish_pending()
    publisher_ids = set(PublisherConsent.objects.filter(withdrawn_at__isnull=True).values_list(
        "publisher_id", flat=True)) | set(PublishedRecord.objects.values_list(
            "publisher_id", flat=True).distinct())
    for publisher_id in publisher_ids:
        FeedState.objects.get_or_create(publisher_id=publisher_id)
    for state in FeedState.objects.filter(publisher_id__in=publisher_ids).order_by(
            "publisher_id"):
        since = None if whole else state.compared_on
        for school in School.objects.filter(pk__in=_schools_to_compare(
                state.publisher_id, since, day)).order_by("pk"):
            written += publish_school(school, publisher_ids=[state.publisher_id], day=day)
        FeedState.objects.filter(publisher_id=state.publisher_id).update(compared_on=day)
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


# --- after a change: written down with it, compared once it has committed -------------------

_DISPATCH_ATTR = "_klaspoort_feed_dispatch"
# Schools per comparison task after the nightly run: with a broker, several workers share the
# night's comparisons; eager, the night's own processes share them (release_comparisons).
DRAIN_CHUNK = 200


class _Hold:
    """Whether comparisons wait: during the nightly run they are held until every import is
    done (the roster first; the feed then catches up in one pass). Per process: the nightly
    command's forked workers inherit it."""

    held = False


def publish_after_commit(school_id: int | None, touched: Touched | None = None) -> None:
    """RULE: a change that may alter what publishers see of a school is written down in its own
    transaction (a PendingComparison: the part `touched` names, or the whole school), so it
    commits with the change and cannot be lost afterwards. Once the transaction commits the
    school is compared (within the same request or task, or by a worker), once however many
    changes it made; during the nightly run only after every import is done
    (hold_comparisons). A transaction that rolls back takes its pending row with it. A school
    no publisher sees or was told about has nothing to compare."""
    if school_id is None or not _seen_by_a_publisher(school_id):
        return
    PendingComparison.objects.create(
        school_id=school_id, touched=None if touched is None else touched.as_json())
    if _Hold.held:
        return
    waiting: set[int] = getattr(connection, _DISPATCH_ATTR, None) or set()
    waiting.add(school_id)
    setattr(connection, _DISPATCH_ATTR, waiting)
    transaction.on_commit(_dispatch)


def _seen_by_a_publisher(school_id: int) -> bool:
    """Whether a publisher sees the school or was told about it: for any other school a
    comparison has nothing to tell (a consent given later is a change of its own)."""
    return (for_school(PublisherConsent, school_id).filter(withdrawn_at__isnull=True).exists()
            or for_school(PublishedRecord, school_id).exists())


def _dispatch() -> None:
    waiting: set[int] = getattr(connection, _DISPATCH_ATTR, None) or set()
    setattr(connection, _DISPATCH_ATTR, set())
    if waiting:
        _queue(sorted(waiting))


def _queue(school_ids: list[int] | None) -> None:
    """A task per chunk of schools: with a broker the comparison runs beside the import or the
    page that changed something, which then costs what it did before; eager (the embedded
    default, the tests), it runs here and now. Never raises: what is pending stays pending
    and the next drain compares it."""
    from klaspoort.exchange.tasks import publish_pending

    try:
        for chunk in _chunks(pending_school_ids() if school_ids is None else school_ids):
            publish_pending.delay(chunk)
    except Exception:
        logger.exception("publisher feed: comparisons could not be queued; they stay pending")


def hold_comparisons() -> None:
    """RULE: during the nightly run comparisons wait until every import is done, so the
    imports take what they took without publishers (issue 13: "the nightly import's speed is
    unchanged"). What the imports change is still written down with each import."""
    _Hold.held = True


def release_comparisons(workers: int = 1) -> None:
    """The nightly imports are done: everything pending is compared, in chunks of schools.
    With a broker the chunks are queued for the workers; eager (the embedded default) they
    run here, in as many processes as the imports used (each school is its own transaction,
    and rows another process compares are skipped, so they never tell a change twice)."""
    _Hold.held = False
    # Never on SQLite: a forked process cannot share its (test) database or its write lock.
    if workers > 1 and _eager() and connection.vendor != "sqlite":
        try:
            chunks = _chunks(pending_school_ids())
            for _written in in_processes(publish_pending, chunks, workers):
                pass
        except Exception:
            logger.exception("publisher feed: the night's comparisons failed; they stay pending")
        return
    _queue(None)


def _eager() -> bool:
    from klaspoort.exchange.tasks import publish_pending

    return bool(publish_pending.app.conf.task_always_eager)


def _chunks(school_ids: list[int]) -> list[list[int]]:
    return [school_ids[start:start + DRAIN_CHUNK]
            for start in range(0, len(school_ids), DRAIN_CHUNK)]


def pending_school_ids() -> list[int]:
    """The schools with a change that no comparison has told the publishers yet."""
    return sorted(set(PendingComparison.objects.values_list("school_id", flat=True)))


def publish_pending(school_ids: list[int] | None = None) -> int:
    """RULE: every pending change is compared once, each school in its own transaction: the
    parts that imports touched (merged), or the whole school when any change did not say.
    Pending rows another process is comparing right now are skipped (it tells them). A school
    whose comparison fails is logged and stays pending: the change has committed, the feed
    must never break an import or a page, and the next drain (at the latest the nightly
    publish_feeds task) tries again. Returns the number of events written."""
    written = 0
    for school_id in pending_school_ids() if school_ids is None else sorted(set(school_ids)):
        try:
            written += _publish_pending_school(school_id)
        except Exception:
            logger.exception("publisher feed: comparing school %s failed; it stays pending",
                             school_id)
    return written


@transaction.atomic
def _publish_pending_school(school_id: int) -> int:
    rows = list(PendingComparison.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("school").filter(school_id=school_id))
    if not rows:
        return 0
    touched: Touched | None = Touched(frozenset(), frozenset())
    for row in rows:
        # One change that did not say what it touched makes it the whole school.
        touched = (None if touched is None or row.touched is None
                   else touched | Touched.from_json(row.touched))
    written = publish_school(rows[0].school, touched=touched)
    PendingComparison.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return written


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
