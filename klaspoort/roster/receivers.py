"""What roster answers the pages of the apps below it (schools.signals)."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver

from klaspoort.admin_area import PageSection
from klaspoort.roster import selectors, year_checks
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.signals import school_data_sections, school_year_checks


@receiver(school_data_sections, dispatch_uid="roster.school_data")
def user_data_card(sender: Any, request: Any, **_kwargs: Any) -> PageSection:
    """*Gegevens*: the latest import and how many groups, pupils and teachers are active."""
    return PageSection("roster/_school_summary.html",
                       {"summary": selectors.school_summary(request.school)},
                       order=10, beside=True)


@receiver(school_year_checks, dispatch_uid="roster.year_checks")
def roster_checks(sender: Any, school: Any, day: datetime.date,
                  **_kwargs: Any) -> list[CheckItem]:
    """*Schooljaar-checklist*: the last import, last year's group 8, the teachers."""
    return year_checks.year_checks(school, day)
