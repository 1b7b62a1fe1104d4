"""What signin answers the pages of the apps below it (schools.signals)."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver

from klaspoort.admin_area import PageSection
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.signals import school_data_sections, school_year_checks
from klaspoort.signin import year_checks


@receiver(school_data_sections, dispatch_uid="signin.school_data")
def home_signin_card(sender: Any, request: Any, **_kwargs: Any) -> PageSection:
    """*Gegevens*: the home sign-in setting (thuisinlog, R4.2); it posts to signin's view."""
    return PageSection("signin/_home_signin_setting.html", {}, order=20)


@receiver(school_year_checks, dispatch_uid="signin.year_checks")
def signin_checks(sender: Any, school: Any, day: datetime.date,
                  **_kwargs: Any) -> list[CheckItem]:
    """*Schooljaar-checklist*: recent sign-ins, the shortcuts, the home sign-in setting."""
    return year_checks.year_checks(school, day)
