"""The *Schooljaar-checklist* (issue 16, seed 001): every item of the coordinator's summer
checklist as a live check that Klaspoort answers itself.

schools is low in the layers, and most facts belong to the apps above it (the roster, the
licences, sign-in, results). So this module only asks: `checks_for` sends
`schools.signals.school_year_checks` and each app answers for its own facts from its
`year_checks.py` (connected in its `receivers.py`). The reminders read the same answer.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from klaspoort.schools.models import School
from klaspoort.schools.signals import school_year_checks

GREEN, AMBER, RED, OFF = "green", "amber", "red", "off"
STATES = (GREEN, AMBER, RED, OFF)


@dataclass(frozen=True)
class CheckItem:
    """One item of the checklist: `title` and `fix_label` are English msgids (gettext_noop),
    shown translated; `facts` are translated sentences with the numbers behind `state`;
    `fix_url`/`fix_label` lead to the page that fixes it. `state` is "off" when the item is
    not in use at this school (or only informs)."""

    key: str
    title: str
    state: str
    facts: list[str] = field(default_factory=list)
    fix_url: str = ""
    fix_label: str = ""
    order: int = 0

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown state {self.state!r}")


def checks_for(school: School, day: datetime.date) -> list[CheckItem]:
    """RULE: the checklist is what every app answers for this school on `day`, in the
    checklist's order (each receiver answers a list of CheckItem)."""
    items: list[CheckItem] = []
    for _receiver, answer in school_year_checks.send(sender=School, school=school, day=day):
        items.extend(cast(list[CheckItem], answer or []))
    return sorted(items, key=lambda item: (item.order, item.key))


@dataclass(frozen=True)
class Summary:
    """What *Home* shows of the checklist: how many items are red and amber."""

    red: int
    amber: int

    @property
    def all_clear(self) -> bool:
        return not self.red and not self.amber


def summarise(items: Iterable[CheckItem]) -> Summary:
    """RULE: the summary counts the red and the amber items; green and "off" need nothing."""
    states = [item.state for item in items]
    return Summary(red=states.count(RED), amber=states.count(AMBER))
