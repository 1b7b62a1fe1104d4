"""Sign-in's items of the *Schooljaar-checklist* (schools.checklist): pupils signing in from
the school's addresses, the shortcuts, and the home sign-in setting. Connected in
signin.receivers."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from klaspoort.roster.year_checks import in_school_term
from klaspoort.schools.checklist import AMBER, GREEN, OFF, CheckItem
from klaspoort.schools.models import School, SchoolNetwork
from klaspoort.signin.models import SchoolSigninFacts
from klaspoort.tenancy import for_school

# "The last school days": a week holds five of them.
RECENT_DAYS = 7


def signins_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the school's addresses are right when pupils signed in on the pupil page at school
    (which opens only from those addresses) during the last RECENT_DAYS days: green when they
    did, amber when none did during the school year; "off" in the summer holidays and when the
    school has no addresses at all (that item is red already)."""
    url = reverse("schools:networks", kwargs={"brin6": school.brin6})
    if not for_school(SchoolNetwork, school).exists():
        return _signins_item(url, OFF, [_("The school has no IP addresses to check yet.")])
    facts_row = SchoolSigninFacts.objects.filter(school=school).first()
    last = facts_row.last_school_signin_at if facts_row else None
    last_day = timezone.localdate(last) if last else None
    if last_day is not None and day - datetime.timedelta(days=RECENT_DAYS) < last_day <= day:
        return _signins_item(url, GREEN, [
            _("Pupils signed in at school from the school's addresses, last on %(day)s.")
            % {"day": formats.date_format(last_day, "j F Y")}])
    facts = ([_("The last pupil sign-in at school was on %(day)s.")
              % {"day": formats.date_format(last_day, "j F Y")}] if last_day
             else [_("No pupil has signed in at school yet.")])
    if in_school_term(day):
        facts.append(_("No pupil signed in at school during the last %(days)d days: check that "
                       "the school's addresses are still its current ones.")
                     % {"days": RECENT_DAYS})
        return _signins_item(url, AMBER, facts)
    return _signins_item(url, OFF, facts)


def _signins_item(url: str, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="signin.recent", title=gettext_noop("Pupils sign in from the school's "
                                                             "addresses"),
                     state=state, facts=facts, fix_url=url,
                     fix_label=gettext_noop("IP addresses"), order=45)


def shortcuts_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the shortcuts belong on the school's computers, Chromebooks and tablets before the
    year starts: green once a coordinator downloaded them (the date is shown), amber when
    nobody ever did."""
    facts_row = SchoolSigninFacts.objects.filter(school=school).first()
    downloaded = facts_row.shortcuts_downloaded_at if facts_row else None
    if downloaded:
        state = GREEN
        facts = [_("The shortcuts were last downloaded on %(day)s.")
                 % {"day": formats.date_format(timezone.localdate(downloaded), "j F Y")}]
    else:
        state = AMBER
        facts = [_("Nobody has downloaded the shortcuts yet. Put them on the school's "
                    "computers, Chromebooks and tablets.")]
    return CheckItem(
        key="signin.shortcuts", title=gettext_noop("Shortcuts on the school's computers"),
        state=state, facts=facts,
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
