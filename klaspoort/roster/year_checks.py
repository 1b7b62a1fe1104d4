"""The roster's items of the *Schooljaar-checklist* (schools.checklist): the last import,
last year's group 8, and the teachers. Connected in roster.receivers."""

from __future__ import annotations

import datetime
from collections import Counter

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from klaspoort.roster.coupling_selectors import coupling_of, error_text
from klaspoort.roster.models import Pupil, RosterCoupling, RosterImport, Teacher
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED, CheckItem
from klaspoort.schools.models import School
from klaspoort.schools.selectors import school_year_start
from klaspoort.tenancy import for_school

# An import older than this, during the school year, is probably not the school's roster now.
MAX_IMPORT_AGE_DAYS = 7
# The summer holidays, roughly (they differ per region): no LAS changes to expect then.
SUMMER_FROM, SUMMER_UNTIL = (7, 15), (8, 15)
NAMES_SHOWN = 5


def in_school_term(day: datetime.date) -> bool:
    """RULE: "during the school year" for the roster's age is every day outside the summer
    holidays, taken as 15 July to 15 August (the regions' holidays all fall around them)."""
    return not (SUMMER_FROM <= (day.month, day.day) <= SUMMER_UNTIL)


def _when(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + _("and %(count)d more") % {"count": len(names) - NAMES_SHOWN}
    return shown


def import_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: the last import is red when it failed or is held for confirmation, or when the
    automatic coupling's last fetch failed, or when no user data ever arrived; amber when the
    newest user data (a processed import, or a fetch that found no changes) are older than
    MAX_IMPORT_AGE_DAYS during the school year (in_school_term); green otherwise."""
    facts: list[str] = []
    state = GREEN
    coupling = coupling_of(school)
    if coupling is not None and not coupling.active:
        coupling = None
    fresh_at = None
    if coupling is not None:
        if coupling.last_fetch_at is None:
            facts.append(_("The automatic coupling with %(las)s has not fetched yet.")
                         % {"las": coupling.las.name})
        elif coupling.last_result == RosterCoupling.Result.FAILED:
            state = RED
            facts.append(_("The last fetch by the automatic coupling with %(las)s failed on "
                           "%(date)s: %(error)s") % {
                "las": coupling.las.name, "date": _when(coupling.last_fetch_at),
                "error": error_text(coupling.last_error)})
        else:
            fresh_at = coupling.last_fetch_at
            facts.append(_("The automatic coupling with %(las)s last fetched on %(date)s.")
                         % {"las": coupling.las.name, "date": _when(coupling.last_fetch_at)})
    imports = for_school(RosterImport, school).exclude(status=RosterImport.Status.CANCELLED)
    last = imports.order_by("-received_at", "-id").first()
    processed = imports.filter(status=RosterImport.Status.PROCESSED).exclude(
        processed_at=None).order_by("-processed_at").first()
    if last is None and coupling is None:
        return _import_item(school, RED, [_("No user data have been imported yet.")])
    if last is not None:
        facts.append(_("Last import: %(source)s of %(date)s, %(status)s.") % {
            "source": last.get_source_display(), "date": _when(last.received_at),
            "status": last.get_status_display()})
        if last.status in (RosterImport.Status.FAILED, RosterImport.Status.HELD):
            state = RED
    if (processed is not None and processed.processed_at is not None
            and (fresh_at is None or processed.processed_at > fresh_at)):
        fresh_at = processed.processed_at
    if state != RED:
        if fresh_at is None:
            state = AMBER
            facts.append(_("No user data have been processed yet."))
        else:
            age = (day - timezone.localtime(fresh_at).date()).days
            if age > MAX_IMPORT_AGE_DAYS and in_school_term(day):
                state = AMBER
                facts.append(ngettext("The newest user data are %(days)d day old.",
                                      "The newest user data are %(days)d days old.", age)
                             % {"days": age})
    return _import_item(school, state, facts)


def _import_item(school: School, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(
        key="roster.import", title=gettext_noop("Last import of the user data"), state=state,
        facts=facts, fix_url=reverse("roster:imports", kwargs={"brin6": school.brin6}),
        fix_label=gettext_noop("Import user data"), order=10)


def group8_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: pupils of year group 8 who are still active while no user data were processed
    since 1 August (schools.selectors.school_year_start) are last year's group 8, who left
    for secondary school: amber in August, red from 1 September. Once the new year's roster is
    processed, the pupils of year group 8 are this year's (green)."""
    year_start = school_year_start(day)
    new_roster = for_school(RosterImport, school).filter(
        status=RosterImport.Status.PROCESSED,
        processed_at__date__gte=year_start).exists()
    eights = for_school(Pupil, school).filter(active=True, jaargroep="8")
    count = eights.count()
    if new_roster or not count:
        state = GREEN
        facts = [_("No pupils of last year's group 8 are left at the school.")]
    else:
        state = AMBER if day.month == 8 else RED
        facts = [ngettext(
            "%(count)d pupil of year group 8 is still active, and no user data have been "
            "imported since %(date)s.",
            "%(count)d pupils of year group 8 are still active, and no user data have been "
            "imported since %(date)s.", count) % {
            "count": count, "date": formats.date_format(year_start, "j F Y")}]
    return CheckItem(
        key="roster.group8", title=gettext_noop("Last year's group 8 gone"), state=state,
        facts=facts, fix_url=reverse("roster:imports", kwargs={"brin6": school.brin6}),
        fix_label=gettext_noop("Import user data"), order=20)


def teachers_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: every active teacher is linked to an active group and has an e-mail address of
    their own: red when two active teachers share an address (neither can get an account),
    amber when a teacher has no group or no address; "off" when the roster has no teachers."""
    teachers = list(for_school(Teacher, school).filter(active=True).order_by(
        "last_name", "first_name"))
    # A cluster counts as a group: a subject teacher may teach only clusters.
    linked = set(for_school(Teacher, school).filter(
        active=True, teachergroup__group__active=True).values_list("pk", flat=True))
    if not teachers:
        return _teachers_item(school, OFF, [_("The user data have no teachers.")])
    emails = Counter(t.email.strip().lower() for t in teachers if t.email.strip())
    shared = sorted({t.email.strip().lower() for t in teachers
                     if t.email.strip() and emails[t.email.strip().lower()] > 1})
    without_group = [t.full_name for t in teachers if t.pk not in linked]
    without_email = [t.full_name for t in teachers if not t.email.strip()]
    facts = [ngettext("%(count)d active teacher.", "%(count)d active teachers.", len(teachers))
             % {"count": len(teachers)}]
    state = GREEN
    if shared:
        state = RED
        facts.append(_("E-mail addresses used by more than one teacher: %(list)s.")
                     % {"list": _names(shared)})
    if without_group:
        state = state if state == RED else AMBER
        facts.append(ngettext("%(count)d teacher is not linked to a group: %(list)s.",
                              "%(count)d teachers are not linked to a group: %(list)s.",
                              len(without_group))
                     % {"count": len(without_group), "list": _names(without_group)})
    if without_email:
        state = state if state == RED else AMBER
        facts.append(ngettext("%(count)d teacher has no e-mail address: %(list)s.",
                              "%(count)d teachers have no e-mail address: %(list)s.",
                              len(without_email))
                     % {"count": len(without_email), "list": _names(without_email)})
    return _teachers_item(school, state, facts)


def _teachers_item(school: School, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(
        key="roster.teachers", title=gettext_noop("Teachers linked to a group, each with an "
                                                  "e-mail address of their own"),
        state=state, facts=facts,
        fix_url=reverse("roster:teachers", kwargs={"brin6": school.brin6}),
        fix_label=gettext_noop("Teachers"), order=30)


def year_checks(school: School, day: datetime.date) -> list[CheckItem]:
    return [import_check(school, day), group8_check(school, day),
            teachers_check(school, day)]
