"""Licences follow the roster: new groups are linked by year group, joiners get a notice."""

from typing import Any

from klaspoort.licences import services
from klaspoort.schools.models import School


def roster_applied(sender: Any, *, school: School, joined_pupil_ids: list[int],
                   **kwargs: Any) -> None:
    services.auto_link(school)
    if joined_pupil_ids:
        services.notice_joiners(school, joined_pupil_ids)
