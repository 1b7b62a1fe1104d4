"""The coordinators' reminders by e-mail around the school year (issue 16, seed 001).

Each kind goes to a school's coordinators once per school year (`SentReminder`), from its day
until the day it is about, so a daily task that missed its day still sends it, and one that
runs twice sends it once. Each can be switched off per school (*Herinneringen* on *Gegevens*).

This module holds what every reminder shares (who gets it, the once-a-year claim) and the one
before the school year starts, which reads the *Schooljaar-checklist* (`checklist.checks_for`).
The reminder to cancel contracts needs licence data, so it lives in licences.reminders; the one
before the results erasure in results.erasure.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import gettext, gettext_noop

from klaspoort.mail import queue_mail
from klaspoort.schools.checklist import checks_for
from klaspoort.schools.models import School, SentReminder
from klaspoort.schools.selectors import coordinator_memberships, current_school_year

log = logging.getLogger(__name__)

# One week before the school year starts on 1 August (seed 001: "every group linked one week
# before the year starts").
YEAR_START_REMINDER_DAYS = 7

YEAR_START_SUBJECT = gettext_noop("Klaspoort: the checklist for school year %(year)s still has "
                                  "red items (%(count)s)")


def coordinator_addresses(school: School) -> list[str]:
    """The e-mail addresses of the school's active coordinators, each once."""
    found = {str(m.user.email).lower() for m in coordinator_memberships(school) if m.user.email}
    return sorted(found)


def absolute_url(name: str, *, brin6: str, fallback: str = "schools:data") -> str:
    """An address on KLASPOORT_SITE_URL for a coordinator's page; the *Gegevens* page when the
    named page is not there (yet)."""
    try:
        path = reverse(name, kwargs={"brin6": brin6})
    except NoReverseMatch:
        path = reverse(fallback, kwargs={"brin6": brin6})
    return settings.SITE_URL + path


def render_reminder(template: str, subject: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject (an English msgid with %(name)s, filled from `context`), text and HTML, in Dutch
    whatever the language of whoever caused it."""
    with translation.override(settings.LANGUAGE_CODE):
        subject_text = gettext(subject) % context
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    return subject_text, text, html


def send_once(school: School, kind: str, school_year: str,
              message: tuple[str, str, str]) -> int:
    """RULE: each kind of reminder reaches a school's coordinators once per school year: the
    claim (`SentReminder`, unique per school, kind and year) and the queued messages commit
    together, so a second run, also a concurrent one, sends nothing. One message per address
    (colleagues' addresses are not shared in a To line). Returns the number of messages."""
    addresses = coordinator_addresses(school)
    if not addresses:
        return 0  # nobody to tell yet: a coordinator who arrives later in the window hears it
    try:
        with transaction.atomic():
            claim = SentReminder.objects.create(school=school, kind=kind,
                                                school_year=school_year, mails=len(addresses))
            for address in addresses:
                queue_mail(*message, [address])
    except IntegrityError:
        return 0
    log.info("reminder %s for %s sent to %d", kind, school.pk, claim.mails)
    return len(addresses)


def already_sent(school: School, kind: str, school_year: str) -> bool:
    return SentReminder.objects.filter(school=school, kind=kind,
                                       school_year=school_year).exists()


# ---------------------------------------------------------------------------------------------
# One week before the school year starts: the checklist's red items
# ---------------------------------------------------------------------------------------------
def next_year_start(day: datetime.date) -> datetime.date:
    """The 1 August on or after `day`."""
    start = datetime.date(day.year, 8, 1)
    return start if day <= start else datetime.date(day.year + 1, 8, 1)


def year_start_reminder_due(day: datetime.date) -> bool:
    """RULE: the reminder before the school year goes from one week before 1 August (25 July)
    until the day before it."""
    start = next_year_start(day)
    return start - datetime.timedelta(days=YEAR_START_REMINDER_DAYS) <= day < start


def _fix_url(url: str) -> str:
    return settings.SITE_URL + url if url.startswith("/") else url


def _year_start_message(school: School, year: str, start: datetime.date,
                        red: list[Any]) -> tuple[str, str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        # The item titles are msgids: translated here, in Dutch like the rest of the message.
        items = [{"title": gettext(str(item.title)), "facts": list(item.facts),
                  "fix_url": _fix_url(str(item.fix_url)),
                  "fix_label": gettext(str(item.fix_label)) if item.fix_label
                  else gettext("Fix it")}
                 for item in red]
        start_text = formats.date_format(start, "j F Y")
    context = {
        "school": school, "year": year, "count": len(red), "start": start_text, "items": items,
        "checklist_url": absolute_url("schools:checklist", brin6=school.brin6),
        "settings_url": absolute_url("schools:data", brin6=school.brin6),
    }
    return render_reminder("schools/email/year_start_reminder", YEAR_START_SUBJECT, context)


def remind_year_start(school: School, day: datetime.date) -> int:
    """RULE: one week before the school year starts, a school whose *Schooljaar-checklist* has
    red items (and whose coordinators did not switch the reminder off) gets one message per
    coordinator naming each red item with its facts and the page that fixes it; once per school
    year. No red items, no message (it may still come on a later day of the window, when an
    item turned red). Returns the number of messages queued."""
    start = next_year_start(day)
    year = current_school_year(start)
    if not school.remind_year_start or already_sent(school, SentReminder.Kind.YEAR_START, year):
        return 0
    red = [item for item in checks_for(school, day) if item.state == "red"]
    if not red:
        return 0
    return send_once(school, SentReminder.Kind.YEAR_START, year,
                     _year_start_message(school, year, start, red))


def send_year_start_reminders(day: datetime.date) -> int:
    """The daily task's work: every school's reminder before the school year, on the days it is
    due (`year_start_reminder_due`); nothing on the other days. One school failing does not stop
    the others. Returns the number of messages queued."""
    if not year_start_reminder_due(day):
        return 0
    return remind_every_school(School.objects.filter(remind_year_start=True), remind_year_start,
                               day, what="year start reminder")


def remind_every_school(schools: QuerySet[School], remind: Callable[[School, datetime.date], int],
                        day: datetime.date, *, what: str) -> int:
    """RULE: a daily reminder task goes through every school; one school failing (logged, no
    personal data) does not stop the others. Returns the number of messages queued."""
    sent = 0
    for school in schools.order_by("pk"):
        try:
            sent += remind(school, day)
        except Exception as exc:
            log.error("%s of school %s failed: %s", what, school.pk, type(exc).__name__)
    return sent
