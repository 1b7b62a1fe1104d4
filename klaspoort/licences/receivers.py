"""Licences follow the roster (new groups are linked by year group, joiners get a notice),
and say what unticking a publisher stops."""

import datetime
from typing import Any

from django.dispatch import receiver
from django.utils.translation import gettext, ngettext

from klaspoort.licences import publisher_services, selectors, services, year_checks
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.models import Publisher, School
from klaspoort.schools.signals import publisher_untick_consequences, school_year_checks


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


@receiver(publisher_untick_consequences, dispatch_uid="licences.publisher_untick")
def publisher_untick(sender: Any, school: School, publisher: Publisher, day: datetime.date,
                     **_kwargs: Any) -> list[str]:
    """What unticking the publisher stops at once: how many pupils and teachers can no longer
    open its methods, and which tiles disappear (selectors.publisher_reach)."""
    reach = selectors.publisher_reach(school, publisher.pk, day)
    names = {"publisher": publisher.name,
             "pupils": ngettext("%(count)d pupil", "%(count)d pupils", reach.pupils)
             % {"count": reach.pupils},
             "teachers": ngettext("%(count)d teacher", "%(count)d teachers",
                                  reach.teachers) % {"count": reach.teachers},
             "tiles": len(reach.products), "products": ", ".join(reach.products)}
    if not reach.products:
        return [gettext("%(publisher)s: nobody at your school opens one of its methods "
                        "today.") % names]
    return [" ".join([
        gettext("%(publisher)s: %(pupils)s and %(teachers)s can then no longer open its "
                "methods, at once.") % names,
        ngettext("%(tiles)d tile disappears: %(products)s.",
                 "%(tiles)d tiles disappear: %(products)s.", len(reach.products)) % names])]


@receiver(school_year_checks, dispatch_uid="licences.year_checks")
def licence_checks(sender: Any, school: School, day: datetime.date,
                   **kwargs: Any) -> list[CheckItem]:
    """*Schooljaar-checklist*: publishers ticked, group links, seats, contracts ending."""
    return year_checks.year_checks(school, day)
