"""Licences follow the roster: new groups are linked by year group, joiners get a notice."""

from typing import Any

from klaspoort.licences import publisher_services, services
from klaspoort.schools.models import School


def roster_applied(sender: Any, *, school: School, joined_pupil_ids: list[int],
                   **kwargs: Any) -> None:
    services.auto_link(school)
    if joined_pupil_ids:
        services.notice_joiners(school, joined_pupil_ids)


def school_saved(sender: Any, *, instance: School, **kwargs: Any) -> None:
    """A school arrived (roster import, operator): contracts held for its BRIN6 attach now."""
    if kwargs.get("raw"):
        return  # loading fixtures: the contracts in them say their school themselves
    publisher_services.attach_held_contracts(instance)
