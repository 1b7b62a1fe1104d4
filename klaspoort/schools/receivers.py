"""What schools answers its own signals (the checklist asks schools too)."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver

from klaspoort.schools import year_checks
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.models import School
from klaspoort.schools.signals import school_year_checks


@receiver(school_year_checks, dispatch_uid="schools.year_checks")
def school_checks(sender: Any, school: School, day: datetime.date,
                  **_kwargs: Any) -> list[CheckItem]:
    return year_checks.year_checks(school, day)
