"""Sign-in's items of the *Schooljaar-checklist* (schools.checklist): pupils signing in from
the school's addresses, the shortcuts, and the home sign-in setting. Connected in
signin.receivers."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from klaspoort.roster.models import Pupil
from klaspoort.roster.year_checks import in_school_term
from klaspoort.schools.checklist import AMBER, GREEN, OFF, CheckItem
from klaspoort.schools.models import School, SchoolNetwork
from klaspoort.tenancy import for_school

# "The last school days": a week holds five of them.
RECENT_DAYS = 7


def signins_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the school's addresses are right when pupils signed in during the last
    RECENT_DAYS days (the pupil page opens only from the school's addresses; Klaspoort keeps
    no address per sign-in, only the time of each pupil's last one): amber when none did
    during the school year; "off" in the summer holidays and when the school has no
    addresses at all (that item is red already)."""
    url = reverse("schools:networks", kwargs={"brin6": school.brin6})
    if not for_school(SchoolNetwork, school).exists():
        return _signins_item(url, OFF, [_("The school has no IP addresses to check yet.")])
    since = day - datetime.timedelta(days=RECENT_DAYS)
    count = for_school(Pupil, school).filter(
        active=True, user__last_login__date__gt=since,
        user__last_login__date__lte=day).count()
    facts = [ngettext("%(count)d pupil signed in during the last %(days)d days.",
                      "%(count)d pupils signed in during the last %(days)d days.", count)
             % {"count": count, "days": RECENT_DAYS}]
    if school.home_signin_enabled:
        facts.append(_("Home sign-in is on: some of them may have signed in at home."))
    if count:
        state = GREEN
    elif in_school_term(day):
        state = AMBER
        facts.append(_("No pupil signed in: check that the school's addresses are still "
                       "its current ones."))
    else:
        state = OFF
    return _signins_item(url, state, facts)


def _signins_item(url: str, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="signin.recent", title=gettext_noop("Pupils sign in from the school's "
                                                             "addresses"),
                     state=state, facts=facts, fix_url=url,
                     fix_label=gettext_noop("IP addresses"), order=45)


def shortcuts_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: Klaspoort does not record who downloaded the shortcuts, so this item only informs
    ("off"): the page with the shortcuts for the pupils' and teachers' computers."""
    return CheckItem(
        key="signin.shortcuts", title=gettext_noop("Shortcuts on the school's computers"),
        state=OFF, facts=[_("Klaspoort does not record whether the shortcuts were downloaded. "
                            "Put them on the school's computers, Chromebooks and tablets.")],
        fix_url=reverse("shortcuts:index", kwargs={"brin6": school.brin6}),
        fix_label=gettext_noop("Shortcuts"), order=110)


def home_signin_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: whether pupils may sign in at home is the school's choice, so this item only
    informs ("off"): the setting as it stands, on *Gegevens*."""
    fact = (_("Home sign-in is on: pupils can sign in at home.") if school.home_signin_enabled
            else _("Home sign-in is off: pupils can sign in only at school."))
    return CheckItem(
        key="signin.home", title=gettext_noop("Home sign-in setting"), state=OFF,
        facts=[fact],
        fix_url=reverse("schools:data", kwargs={"brin6": school.brin6}) + "#home-signin-heading",
        fix_label=gettext_noop("School details"), order=120)


def year_checks(school: School, day: datetime.date) -> list[CheckItem]:
    return [signins_check(school, day), shortcuts_check(school, day),
            home_signin_check(school, day)]
