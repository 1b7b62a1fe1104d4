"""The results' items of the *Schooljaar-checklist* (schools.checklist): the result couplings
delivering, and results to download before the summer erasure. Connected in
results.receivers."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from klaspoort.licences.schoolyear import school_year_end
from klaspoort.results.coupling_selectors import failure_reason
from klaspoort.results.delivery_selectors import delivery_counts
from klaspoort.results.erasure import erasure_date, plan_erasure, reminder_date
from klaspoort.results.models import ResultCoupling
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED, CheckItem
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school


def couplings_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: a result coupling delivers while its LAS accepts what Klaspoort sends: red when a
    coupling is refused or unreachable, or results were given up on (failed); green when every
    coupling delivers; "off" when the school has no result coupling."""
    couplings = list(for_school(ResultCoupling, school).select_related("las")
                     .order_by("las__name"))
    url = reverse("results:couplings", kwargs={"brin6": school.brin6})
    if not couplings:
        return _couplings_item(url, OFF, [_("The school has no result coupling.")])
    counts = delivery_counts(c.pk for c in couplings)
    state, facts = GREEN, []
    for coupling in couplings:
        numbers = counts[coupling.pk]
        facts.append(_("%(las)s: %(state)s; results sent: %(sent)d, waiting: %(waiting)d, "
                       "failed: %(failed)d.") % {
            "las": coupling.las.name, "state": coupling.get_state_display(), **numbers})
        reason = failure_reason(coupling)
        if reason:
            facts.append(reason)
        if coupling.state != ResultCoupling.State.OK or numbers["failed"]:
            state = RED
    return _couplings_item(url, state, facts)


def _couplings_item(url: str, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="results.couplings", title=gettext_noop("Result couplings delivering"),
                     state=state, facts=facts, fix_url=url,
                     fix_label=gettext_noop("Result couplings"), order=90)


def erasure_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the summer erasure (results.erasure.erasure_date, 21 July by default) erases the
    school year's results; teachers download them before. Amber from the reminder date (four
    weeks before, results.erasure.reminder_date) until the erasure while results would be
    erased; green before that; "off" when the school has no results to erase."""
    year = school_year_end(day).year
    erase_on, remind_on = erasure_date(year), reminder_date(year)
    plan = plan_erasure(erase_on, school)
    count = sum(each.erased for each in plan.schools if each.school_id == school.pk)
    when = formats.date_format(erase_on, "j F Y")
    if not count:
        state, facts = OFF, [_("No results to be erased this school year.")]
    else:
        facts = [ngettext(
            "%(count)d result of this school year will be erased on %(date)s: teachers "
            "download them on their page Results before.",
            "%(count)d results of this school year will be erased on %(date)s: teachers "
            "download them on their page Results before.", count)
            % {"count": count, "date": when}]
        state = AMBER if remind_on <= day <= erase_on else GREEN
    return CheckItem(key="results.erasure",
                     title=gettext_noop("Results downloaded before the summer erasure"),
                     state=state, facts=facts,
                     fix_url=reverse("results:couplings", kwargs={"brin6": school.brin6}),
                     fix_label=gettext_noop("Result couplings"), order=100)


def year_checks(school: School, day: datetime.date) -> list[CheckItem]:
    return [couplings_check(school, day), erasure_check(school, day)]
