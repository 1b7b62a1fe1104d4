"""The licences' items of the *Schooljaar-checklist* (schools.checklist): publishers ticked,
groups linked to their licences, per-child seats, and contracts ending with the 30 June
cancellation date. Connected in licences.receivers."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from klaspoort.licences.models import ChildLicence, Contract, GroupLicence
from klaspoort.licences.schoolyear import cancellation_deadline, school_year_end
from klaspoort.licences.selectors import cancel_option
from klaspoort.licences.services import group_year_groups
from klaspoort.roster.models import Group
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED, CheckItem
from klaspoort.schools.models import School
from klaspoort.schools.selectors import consented_publishers
from klaspoort.tenancy import for_school

NAMES_SHOWN = 5


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + _("and %(count)d more") % {"count": len(names) - NAMES_SHOWN}
    return shown


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "j F Y")


def _url(name: str, school: School) -> str:
    return reverse(name, kwargs={"brin6": school.brin6})


def consent_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: every publisher with a running or future contract of the school must be ticked on
    *Uitgeverijen* (without the consent no pupil opens its methods): red when one is not;
    "off" when the school has no running or future contracts."""
    publishers = {c.publisher_id: c.publisher.name for c in for_school(
        Contract.objects.running_from(day), school).select_related("publisher")}
    ticked = set(consented_publishers(school).values_list("pk", flat=True))
    missing = sorted(name for pk, name in publishers.items() if pk not in ticked)
    if not publishers:
        state, facts = OFF, [_("The school has no running or future contracts.")]
    elif missing:
        state = RED
        facts = [_("Not ticked, while the school has their licences: %(list)s.")
                 % {"list": _names(missing)}]
    else:
        state = GREEN
        facts = [ngettext("%(count)d publisher with licences, ticked.",
                          "%(count)d publishers with licences, all ticked.", len(publishers))
                 % {"count": len(publishers)}]
    return CheckItem(key="licences.consents",
                     title=gettext_noop("Publishers with licences ticked"), state=state,
                     facts=facts, fix_url=_url("schools:publishers", school),
                     fix_label=gettext_noop("Publishers"), order=50)


def group_links_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: every active group with pupils is linked to the running or future per-group
    contracts of its year groups (a combination group by its pupils' year groups, as
    services.auto_link counts them). A link the coordinator removed by hand counts as a choice,
    not a gap. Red when a group with pupils has none of its licences, amber when it misses
    some; "off" when the school has no per-group contracts for year groups."""
    contracts = [c for c in for_school(Contract.objects.running_from(day), school).filter(
        contract_type=Contract.Type.GROUP, product__allows_group_licences=True)
        .select_related("product") if c.product.year_groups]
    if not contracts:
        return _links_item(school, OFF, [_("The school has no per-group contracts for year "
                                           "groups.")])
    years = group_year_groups(school)
    with_pupils = set(for_school(Group, school).filter(
        pk__in=list(years), pupils__active=True).values_list("pk", flat=True))
    names = dict(for_school(Group, school).filter(pk__in=with_pupils)
                 .values_list("pk", "name"))
    links = {(link.contract_id, link.group_id) for link in GroupLicence.objects.filter(
        contract__in=contracts, group_id__in=with_pupils)}  # removed by hand counts too
    active = {(link.contract_id, link.group_id) for link in GroupLicence.objects.filter(
        contract__in=contracts, group_id__in=with_pupils, removed_at__isnull=True)}
    none_at_all: list[str] = []
    some: list[str] = []
    for group_id in with_pupils:
        matching = [c.pk for c in contracts
                    if years[group_id] & {int(y) for y in c.product.year_groups
                                          if str(y).isdigit()}]
        if not any((pk, group_id) not in links for pk in matching):
            continue
        if any((pk, group_id) in active for pk in matching):
            some.append(names[group_id])
        else:
            none_at_all.append(names[group_id])
    none_at_all.sort()
    some.sort()
    facts = [ngettext("%(count)d group with pupils checked.",
                      "%(count)d groups with pupils checked.", len(with_pupils))
             % {"count": len(with_pupils)}]
    state = GREEN
    if none_at_all:
        state = RED
        facts.append(_("Groups without any licence of their year group: %(list)s.")
                     % {"list": _names(none_at_all)})
    if some:
        state = state if state == RED else AMBER
        facts.append(_("Groups missing some licences of their year group: %(list)s.")
                     % {"list": _names(some)})
    return _links_item(school, state, facts)


def _links_item(school: School, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="licences.group_links",
                     title=gettext_noop("Every group linked to its licences"), state=state,
                     facts=facts, fix_url=_url("licences:contracts", school),
                     fix_label=gettext_noop("Licence management"), order=60)


def child_seats_check(school: School, day: datetime.date) -> CheckItem:
    """RULE: per-child contracts that run now or later, with their seats: amber when a contract
    has no free seat left (a new pupil cannot be linked), red when more children are linked
    than it has seats; "off" when the school has no per-child contracts with seats."""
    contracts = list(for_school(Contract.objects.running_from(day), school).filter(
        contract_type=Contract.Type.CHILD, seats__isnull=False).order_by("title"))
    if not contracts:
        return _seats_item(school, OFF, [_("The school has no per-child contracts.")])
    used: dict[int, int] = defaultdict(int)
    for contract_id in ChildLicence.objects.filter(
            contract__in=contracts, removed_at__isnull=True).values_list("contract_id",
                                                                          flat=True):
        used[contract_id] += 1
    state, facts = GREEN, []
    for contract in contracts:
        seats, taken = int(contract.seats or 0), used[contract.pk]
        facts.append(_("%(title)s: %(used)d of %(seats)d seats used, %(free)d free.") % {
            "title": contract.title, "used": taken, "seats": seats,
            "free": max(seats - taken, 0)})
        if taken > seats:
            state = RED
        elif taken == seats and state != RED:
            state = AMBER
    return _seats_item(school, state, facts)


def _seats_item(school: School, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="licences.child_seats",
                     title=gettext_noop("Per-child licences: free seats"), state=state,
                     facts=facts, fix_url=_url("licences:child_contracts", school),
                     fix_label=gettext_noop("Per-child licences"), order=70)


def contracts_ending_check(school: School, day: datetime.date) -> CheckItem:
    """RULE (decision 0012): contracts can be cancelled for the next school year until 30 June.
    In June, up to and including 30 June, the item is amber while contracts end this school
    year (to renew) or can still be cancelled (to decide); green otherwise; "off" when the
    school has no running or future contracts."""
    contracts = list(for_school(Contract.objects.running_from(day), school).order_by("title"))
    if not contracts:
        return _ending_item(school, OFF, [_("The school has no running or future contracts.")])
    year_end, deadline = school_year_end(day), cancellation_deadline(day)
    # A contract the school cancelled ends by its own choice: nothing left to decide.
    ending = [c.title for c in contracts
              if c.effective_end <= year_end and c.cancelled_at is None]
    cancellable = [c.title for c in contracts if cancel_option(c, day).allowed]
    facts = []
    if ending:
        facts.append(ngettext("%(count)d contract ends this school year: %(list)s.",
                              "%(count)d contracts end this school year: %(list)s.",
                              len(ending)) % {"count": len(ending), "list": _names(ending)})
    if cancellable:
        facts.append(ngettext(
            "%(count)d contract continues next school year unless you cancel it by %(date)s.",
            "%(count)d contracts continue next school year unless you cancel them by %(date)s.",
            len(cancellable)) % {"count": len(cancellable), "date": _date(deadline)})
    elif day > deadline:
        facts.append(_("The cancellation date (%(date)s) has passed.") % {
            "date": _date(deadline)})
    if not facts:
        facts.append(_("No contract ends this school year."))
    in_june = day.month == 6 and day <= deadline
    state = AMBER if in_june and (ending or cancellable) else GREEN
    return _ending_item(school, state, facts)


def _ending_item(school: School, state: str, facts: list[str]) -> CheckItem:
    return CheckItem(key="licences.contracts_ending",
                     title=gettext_noop("Contracts ending and the 30 June cancellation date"),
                     state=state, facts=facts, fix_url=_url("licences:contracts", school),
                     fix_label=gettext_noop("Licence management"), order=80)


def year_checks(school: School, day: datetime.date) -> list[CheckItem]:
    return [consent_check(school, day), group_links_check(school, day),
            child_seats_check(school, day), contracts_ending_check(school, day)]
