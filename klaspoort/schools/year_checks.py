"""The school's own items of the *Schooljaar-checklist* (schools.checklist): its addresses."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from klaspoort.schools.checklist import GREEN, RED, CheckItem
from klaspoort.schools.models import School, SchoolNetwork
from klaspoort.tenancy import for_school


def networks_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the pupil page and the pupils' methods open only from the school's addresses, so a
    school without any address on *IP-adressen* is red; with at least one it is green."""
    addresses = list(for_school(SchoolNetwork, school).order_by("network")
                     .values_list("network", flat=True))
    if addresses:
        state = GREEN
        facts = [ngettext("%(count)d address registered: %(list)s.",
                          "%(count)d addresses registered: %(list)s.", len(addresses))
                 % {"count": len(addresses), "list": ", ".join(addresses[:5])}]
    else:
        state = RED
        facts = [_("No IP address is registered: pupils cannot sign in at school.")]
    return CheckItem(
        key="schools.networks", title=gettext_noop("The school's IP addresses"), state=state,
        facts=facts, fix_url=reverse("schools:networks", kwargs={"brin6": school.brin6}),
        fix_label=gettext_noop("IP addresses"), order=40)


def year_checks(school: School, day: datetime.date) -> list[CheckItem]:
    return [networks_check(school, day)]
