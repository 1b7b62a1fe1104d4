"""What roster answers the pages of the apps below it (schools.signals)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from klaspoort.admin_area import PageSection
from klaspoort.roster import selectors
from klaspoort.schools.signals import school_data_sections


@receiver(school_data_sections, dispatch_uid="roster.school_data")
def user_data_card(sender: Any, request: Any, **_kwargs: Any) -> PageSection:
    """*Gegevens*: the latest import and how many groups, pupils and teachers are active."""
    return PageSection("roster/_school_summary.html",
                       {"summary": selectors.school_summary(request.school)},
                       order=10, beside=True)
