"""The reminder on 1 June: contracts the school can still cancel until 30 June (seed 001).

Shares its once-a-year claim and its recipients with the other reminders (schools.reminders);
here because it reads contracts, which schools may not import.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext_noop

from klaspoort.licences.models import Contract
from klaspoort.licences.schoolyear import cancellation_deadline, school_year_end
from klaspoort.licences.selectors import cancel_option
from klaspoort.schools.models import School, SentReminder
from klaspoort.schools.reminders import (
    absolute_url,
    already_sent,
    remind_every_school,
    render_reminder,
    send_once,
)
from klaspoort.schools.selectors import current_school_year
from klaspoort.tenancy import for_school

log = logging.getLogger(__name__)

CANCELLATION_SUBJECT = gettext_noop("Klaspoort: cancel contracts for next school year before "
                                    "%(deadline)s")


def cancellation_reminder_due(day: datetime.date) -> bool:
    """RULE: the reminder to cancel goes from 1 June until the cancellation deadline (30 June,
    `schoolyear.cancellation_deadline`)."""
    deadline = cancellation_deadline(day)
    return datetime.date(deadline.year, 6, 1) <= day <= deadline


def cancellable_contracts(school: School, day: datetime.date) -> list[Contract]:
    """The school's contracts it can still cancel today (`selectors.cancel_option`, the one rule
    of *Opzeggen*): not cancelled, running on into next school year, and the deadline not
    passed."""
    contracts = (for_school(Contract.objects.running_from(day), school)
                 .select_related("product", "publisher")
                 .order_by("publisher__name", "product__name", "number"))
    return [c for c in contracts if cancel_option(c, day).allowed]


def _message(school: School, day: datetime.date,
             contracts: list[Contract]) -> tuple[str, str, str]:
    deadline, year_end = cancellation_deadline(day), school_year_end(day)
    with translation.override(settings.LANGUAGE_CODE):
        dates = {"deadline": formats.date_format(deadline, "j F Y"),
                 "year_end": formats.date_format(year_end, "j F Y")}
        rows = [{"number": c.number, "title": c.title, "product": c.product.name,
                 "publisher": c.publisher.name,
                 "end": formats.date_format(c.end, "j F Y"),
                 "url": settings.SITE_URL + reverse("licences:contract_groups", kwargs={
                     "brin6": school.brin6, "contract_id": c.pk})}
                for c in contracts]
    context = {"school": school, "year": current_school_year(day), "contracts": rows,
               "contracts_url": absolute_url("licences:contracts", brin6=school.brin6),
               "settings_url": absolute_url("schools:data", brin6=school.brin6), **dates}
    return render_reminder("licences/email/cancellation_reminder", CANCELLATION_SUBJECT,
                           context)


def remind_cancellation(school: School, day: datetime.date) -> int:
    """RULE (seed 001, decision 0012): from 1 June, a school with contracts it can still cancel
    (and whose coordinators did not switch the reminder off) gets one message per coordinator
    naming those contracts (publisher, product, number, end date) and the last day to cancel,
    30 June; once per school year. Returns the number of messages queued."""
    year = current_school_year(day)
    if (not school.remind_cancellation
            or already_sent(school, SentReminder.Kind.CANCELLATION, year)):
        return 0
    contracts = cancellable_contracts(school, day)
    if not contracts:
        return 0
    return send_once(school, SentReminder.Kind.CANCELLATION, year,
                     _message(school, day, contracts))


def send_cancellation_reminders(day: datetime.date) -> int:
    """The daily task's work: every school's reminder to cancel, on the days it is due; one
    school failing does not stop the others. Returns the number of messages queued."""
    if not cancellation_reminder_due(day):
        return 0
    return remind_every_school(School.objects.filter(remind_cancellation=True),
                               remind_cancellation, day, what="cancellation reminder")
