"""What signin answers the pages of the apps below it (schools.signals)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from klaspoort.admin_area import PageSection
from klaspoort.schools.signals import school_data_sections


@receiver(school_data_sections, dispatch_uid="signin.school_data")
def home_signin_card(sender: Any, request: Any, **_kwargs: Any) -> PageSection:
    """*Gegevens*: the home sign-in setting (thuisinlog, R4.2); it posts to signin's view."""
    return PageSection("signin/_home_signin_setting.html", {}, order=20)
