"""A publisher's own copy of the rosters it may see, kept with Klaspoort's documented roster API
(docs/publishers.md): a snapshot per school to start, then the change feed from the snapshot's
cursor. Only HTTP and JSON: nothing of Klaspoort's code, as a publisher's system would do it.

    replica = RosterReplica("http://localhost:8000/api/publisher/v1", token)
    replica.sync()                      # the first time: snapshots, then the feed
    replica.sync()                      # later: only what changed
    replica.pupils_of(group_id)         # a teacher's group before any pupil signed in
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

HTTP_TIMEOUT = 10
PAGE = 1000


class RosterApiError(Exception):
    pass


@dataclass
class RosterReplica:
    api_url: str  # e.g. http://localhost:8000/api/publisher/v1
    token: str
    cursor: str | None = None  # None: not started; then snapshots first
    schools: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_sequence: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(self.api_url.rstrip("/") + path, params=params,
                                    headers={"Authorization": f"Bearer {self.token}"},
                                    timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            raise RosterApiError(f"{path}: {response.status_code} {response.text[:200]}")
        body: dict[str, Any] = response.json()
        return body

    def start_from_snapshots(self) -> None:
        """Every school's snapshot; continue the feed from the earliest snapshot cursor. Events
        are whole records, so one told again after a later snapshot changes nothing."""
        listing = self._get("/schools")
        cursors = [listing["cursor"]]
        self.schools, self.groups, self.people = {}, {}, {}
        for school in listing["schools"]:
            try:
                snapshot = self._get(f"/schools/{school['id']}")
            except RosterApiError:
                continue  # gone since the list was read: the feed tells the rest
            self.schools[school["id"]] = snapshot["school"]
            self.groups.update({g["id"]: g for g in snapshot["groups"]})
            self.people.update({p["id"]: p for p in snapshot["people"]})
            cursors.append(snapshot["cursor"])
        # The list's cursor is the earliest: the snapshots were read after it.
        self.cursor = cursors[0]

    def sync(self) -> int:
        """Bring the copy up to date; the number of events applied."""
        if self.cursor is None:
            self.start_from_snapshots()
        applied = 0
        while True:
            page = self._get("/changes", after=self.cursor, limit=PAGE)
            for event in page["events"]:
                self.apply(event)
                applied += 1
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return applied

    def apply(self, event: dict[str, Any]) -> None:
        """One event, in sequence order: added/changed store the record (null: superseded,
        a later event removes it); deactivated and removed delete it."""
        self.last_sequence = event["sequence"]
        table = {"school": self.schools, "group": self.groups, "person": self.people}[
            event["entity"]]
        if event["type"] in ("added", "changed"):
            if event["record"] is not None:
                table[event["id"]] = event["record"]
        else:
            table.pop(event["id"], None)
            if event["entity"] == "school":  # the school's consent is gone: all of it goes
                for rows in (self.groups, self.people):
                    for key in [k for k, v in rows.items() if v["school_id"] == event["id"]]:
                        del rows[key]

    def view_of(self, school_id: str) -> dict[str, Any]:
        """One school as the snapshot gives it, for comparing."""
        return {"school": self.schools.get(school_id),
                "groups": sorted((g for g in self.groups.values()
                                  if g["school_id"] == school_id), key=lambda g: g["id"]),
                "people": sorted((p for p in self.people.values()
                                  if p["school_id"] == school_id), key=lambda p: p["id"])}

    def pupils_of(self, group_id: str) -> list[dict[str, Any]]:
        """The pupils of a group, by name."""
        return sorted((p for p in self.people.values()
                       if p["role"] == "pupil" and group_id in p["group_ids"]),
                      key=lambda p: (p["given_name"], p["family_name"]))
