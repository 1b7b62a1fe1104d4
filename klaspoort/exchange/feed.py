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

from klaspoort.exchange.models import FeedEvent, FeedState, PublishedRecord
from klaspoort.exchange.signals import feed_advanced
from klaspoort.licences.publisher_view import (
    PublisherView,
    consenting_publisher_ids,
    is_gone,
    views_of_school,
)
from klaspoort.pseudonyms import school_id_for
from klaspoort.schools.models import PublisherConsent, School

logger = logging.getLogger(__name__)

Action = FeedEvent.Action
Entity = FeedEvent.Entity
# Adds go school → groups → people (a person's groups are known before the person); removals
# the other way round (people leave before their group, the school last).
_ADD_ORDER = {"s": 0, "g": 1, "u": 2}


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


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


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
                   day: datetime.date | None = None) -> int:
    """RULE: every publisher that sees (or saw) the school is told exactly what changed since
    it was last told: *added* with the whole record for what entered its view, *changed* for
    a record that differs, *deactivated* for what left the school itself, *removed* for what
    left its view but not the school (licence ended, group unlinked, consent withdrawn), and
    nothing when nothing changed. Each publisher's events get the next consecutive sequence
    numbers, and its feed row stays locked until commit so they become visible in order.
    Earlier records of what left the view are blanked (least data; the last event tells the
    publisher to delete). Returns the number of events written."""
    wanted = sorted(set(publisher_ids if publisher_ids is not None else publishers_of(school)))
    if not wanted:
        return 0
    states = _lock(wanted)
    # Read after the lock: a comparison that started earlier has committed by now, so this
    # one sees its result and the feed never steps back to older data.
    views = views_of_school(school, wanted, day=day)
    written = 0
    for publisher_id in wanted:
        written += _publish(states[publisher_id], school, views[publisher_id])
    return written


def _publish(state: FeedState, school: School, view: PublisherView) -> int:
    publisher_id = state.publisher_id
    current = _current(view)
    published = {row.local_key: row for row in PublishedRecord.objects.filter(
        publisher_id=publisher_id, school=school)}
    school_ref = school_id_for(publisher_id, school.pk)
    events: list[tuple[str, str, str, str, dict[str, Any] | None]] = []
    for key in sorted(set(current) - set(published), key=_order):
        entity, ref, record = current[key]
        events.append((key, entity, ref, Action.ADDED, record))
    for key in sorted(set(current) & set(published), key=_order):
        entity, ref, record = current[key]
        if not _same(record, published[key].record):
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
    FeedEvent.objects.bulk_create([
        FeedEvent(publisher_id=publisher_id, sequence=first + i, school=school,
                  school_ref=school_ref, entity=entity, entity_ref=ref, local_key=key,
                  action=action, record=record)
        for i, (key, entity, ref, action, record) in enumerate(events)], batch_size=1000)
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
    PublishedRecord.objects.bulk_create([
        PublishedRecord(publisher_id=publisher_id, school=school, local_key=key,
                        entity=entity, entity_ref=ref, record=record)
        for key, (entity, ref, record) in upserts], batch_size=1000)
    return len(events)


def publish_everything(*, day: datetime.date | None = None) -> int:
    """RULE: once a night (and on demand) every school that consents to a publisher, or was
    told to one before, is compared again: contracts start and end by date, without any
    write that would trigger a comparison. Each school in its own transaction."""
    school_ids = set(PublisherConsent.objects.filter(withdrawn_at__isnull=True).values_list(
        "school_id", flat=True)) | set(PublishedRecord.objects.values_list(
            "school_id", flat=True).distinct())
    written = 0
    for school in School.objects.filter(pk__in=school_ids).order_by("pk"):
        written += publish_school(school, day=day)
    return written


# --- after a change: compare once, when the transaction has committed ------------------------

_PENDING_ATTR = "_klaspoort_feed_pending"


def publish_after_commit(school_id: int | None) -> None:
    """RULE: a change that may alter what publishers see of a school has them told as soon as
    its transaction commits (within the same request or task), once per school however many
    rows changed. A transaction that rolls back leaves the school marked, which only costs
    one comparison that finds nothing at the next commit."""
    if school_id is None:
        return
    pending: set[int] = getattr(connection, _PENDING_ATTR, None) or set()
    pending.add(school_id)
    setattr(connection, _PENDING_ATTR, pending)
    transaction.on_commit(_publish_pending)


def _publish_pending() -> None:
    pending: set[int] = getattr(connection, _PENDING_ATTR, None) or set()
    setattr(connection, _PENDING_ATTR, set())
    for school in School.objects.filter(pk__in=pending).order_by("pk"):
        try:
            publish_school(school)
        except Exception:
            # The change itself has committed; the nightly comparison catches up. Never let
            # the feed break a coordinator's page or an import.
            logger.exception("publisher feed: comparing school %s failed", school.pk)


# --- snapshots: compare, then read under the lock ------------------------------------------

@dataclass
class Snapshot:
    sequence: int
    school: dict[str, Any]
    groups: list[dict[str, Any]]
    people: list[dict[str, Any]]


def _school_by_ref(publisher_id: int, school_ref: str) -> School | None:
    row = PublishedRecord.objects.filter(publisher_id=publisher_id, entity=Entity.SCHOOL,
                                         entity_ref=school_ref[:64]).first()
    return School.objects.filter(pk=row.school_id).first() if row is not None else None


@transaction.atomic
def snapshot(publisher_id: int, school_ref: str) -> Snapshot | None:
    """RULE: a school as the publisher sees it now, and the sequence number it stands at:
    the school is compared first and the feed stays locked while its records are read, so the
    events after that number are exactly what happens after the snapshot. None for a school
    the publisher does not see (unknown, or no consent: the same answer)."""
    school = _school_by_ref(publisher_id, school_ref)
    if school is None:
        return None
    publish_school(school, publisher_ids=[publisher_id])
    sequence = FeedState.objects.select_for_update().get(publisher_id=publisher_id).last_sequence
    rows = list(PublishedRecord.objects.filter(publisher_id=publisher_id, school=school))
    school_record = next((row.record for row in rows if row.entity == Entity.SCHOOL), None)
    if school_record is None:
        return None
    return Snapshot(
        sequence, school_record,
        sorted((row.record for row in rows if row.entity == Entity.GROUP),
               key=lambda record: (record["kind"], record["name"], record["id"])),
        sorted((row.record for row in rows if row.entity == Entity.PERSON),
               key=lambda record: (record["role"], record["family_name"],
                                   record["given_name"], record["id"])))
