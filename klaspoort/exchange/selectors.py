"""Reads of the publisher feed (R6, decision 0030): events after a cursor, snapshots.

A cursor is opaque to the publisher: the sequence number it stands for, bound to the
publisher and signed with the pseudonym key (which never rotates, so a cursor stays valid for
ever, like the feed). A cursor of another publisher or a changed one is refused, not guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from klaspoort.exchange.models import FeedEvent, FeedState, PublishedRecord
from klaspoort.pseudonyms import pseudonym_key

Entity = FeedEvent.Entity
START = "0"  # the cursor before the first event: replay everything


def json_text(field: str) -> Any:
    """A JSON column as its text, without decoding it (to pass it on as it is)."""
    return Cast(field, output_field=TextField())


class BadCursor(ValueError):
    pass


def _mac(publisher_id: int, sequence: int) -> bytes:
    message = f"cursor:{publisher_id}:{sequence}".encode()
    return hmac.new(pseudonym_key(), message, hashlib.sha256).digest()[:12]


def cursor_for(publisher_id: int, sequence: int) -> str:
    """The opaque cursor that stands for 'after event `sequence`'."""
    if sequence == 0:
        return START
    raw = sequence.to_bytes(8, "big") + _mac(publisher_id, sequence)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def sequence_of(publisher_id: int, cursor: str | None) -> int:
    """RULE: the sequence number behind a cursor this publisher was given; BadCursor for
    anything else (made up, changed, another publisher's)."""
    if cursor is None or cursor in ("", START):
        return 0
    if len(cursor) > 64:
        raise BadCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise BadCursor(cursor) from None
    if len(raw) != 20:
        raise BadCursor(cursor)
    sequence = int.from_bytes(raw[:8], "big")
    if sequence == 0 or not hmac.compare_digest(raw[8:], _mac(publisher_id, sequence)):
        raise BadCursor(cursor)
    return sequence


@dataclass
class EventPage:
    events: list[str]  # each event as JSON text (EventOut of the API)
    last_sequence: int  # of the last event on the page, or the cursor's when empty
    has_more: bool

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(event) for event in self.events]


def events_after(publisher_id: int, sequence: int, limit: int) -> EventPage:
    """The publisher's events after `sequence`, oldest first, at most `limit`, as JSON texts.

    A page of 1,000 events is read as plain values with each record as the text the database
    holds, and written out without decoding it: every value but the record is Klaspoort's own
    (sequence numbers, fixed words, hexadecimal ids, timestamps)."""
    rows = list(FeedEvent.objects.filter(publisher_id=publisher_id, sequence__gt=sequence)
                .order_by("sequence")
                .values_list("sequence", "action", "entity", "entity_ref", "school_ref",
                             json_text("record"), "created_at")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    events = [
        f'{{"sequence":{number},"type":"{action}","entity":"{entity}","id":"{ref}",'
        f'"school_id":"{school_ref}","record":{record or "null"},'
        f'"occurred_at":"{created.isoformat()}"}}'
        for number, action, entity, ref, school_ref, record, created in rows]
    return EventPage(events, rows[-1][0] if rows else sequence, has_more)


def last_sequence(publisher_id: int) -> int:
    return FeedState.objects.filter(publisher_id=publisher_id).values_list(
        "last_sequence", flat=True).first() or 0


def visible_schools(publisher_id: int) -> tuple[list[dict[str, Any]], int]:
    """The schools the publisher has been told about and not told to delete, and the sequence
    number this list stands at."""
    with transaction.atomic():
        sequence = last_sequence(publisher_id)
        rows = PublishedRecord.objects.filter(publisher_id=publisher_id,
                                              entity=Entity.SCHOOL).order_by("school_id")
        return [row.record for row in rows], sequence
