"""The results app's answers to the apps below it: its items of the *Schooljaar-checklist*."""

from __future__ import annotations

import datetime
from typing import Any

from django.dispatch import receiver

from klaspoort.results import year_checks
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.models import School
from klaspoort.schools.signals import school_year_checks


@receiver(school_year_checks, dispatch_uid="results.year_checks")
def results_checks(sender: Any, school: School, day: datetime.date,
                   **_kwargs: Any) -> list[CheckItem]:
    """*Schooljaar-checklist*: result couplings delivering, results before the erasure."""
    return year_checks.year_checks(school, day)
