"""Licence reads for the *Licentiebeheer* pages, the confirmations of irreversible actions, the
publisher portal and `klaspoort licences`. Who may open what is not here: that is the access
rule, `licences.access`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from klaspoort.licences.access import access_for_school
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    GroupLicence,
    JoinNotice,
    runs_from_q,
)
from klaspoort.licences.schoolyear import cancellation_deadline, school_year_end
from klaspoort.roster.models import Group, Pupil, RosterEvent
from klaspoort.schools.models import Publisher, PublisherConsent, School
from klaspoort.tenancy import for_school

# ---------------------------------------------------------------------------------------------
# Licentiebeheer
# ---------------------------------------------------------------------------------------------
RUNNING, FUTURE, ENDED_STATUS, CANCELLED = "running", "future", "ended", "cancelled"


@dataclass(frozen=True)
class ContractRow:
    contract: Contract
    groups: int
    children: int
    status: str
    to_end: bool  # an older version of a method the school has a newer contract for

    @property
    def seats_used(self) -> int:
        return self.children

    @property
    def seats_free(self) -> int | None:
        return seats_free(self.contract, self.children)


def contract_status(contract: Contract, today: datetime.date) -> str:
    """RULE: a contract's status on `today`, by `Contract.runs_on` (start to effective end,
    both inclusive): running (or cancelled, when it runs until the end of the school year it was
    cancelled for), future, or ended. A contract cancelled before it started never runs: it is
    cancelled until its start date has passed, then ended."""
    cancelled = contract.cancelled_at is not None
    if contract.runs_on(today):
        return CANCELLED if cancelled else RUNNING
    if today < contract.start:
        return FUTURE if contract.runs_from(today) else CANCELLED
    return ENDED_STATUS


# Why *Opzeggen* is not on offer (the coordinator is told which).
ALREADY_CANCELLED, ENDS_THIS_YEAR, DEADLINE_PASSED = "cancelled", "ends_this_year", "too_late"


@dataclass(frozen=True)
class CancelOption:
    """Whether the school can cancel a contract today, and if not, why not."""

    allowed: bool
    reason: str  # "" when allowed, else ALREADY_CANCELLED, ENDS_THIS_YEAR or DEADLINE_PASSED
    year_end: datetime.date  # the day a cancellation made today ends the contract
    deadline: datetime.date  # the last day to cancel for the next school year (30 June)


def cancel_option(contract: Contract, today: datetime.date) -> CancelOption:
    """RULE (decision 0012): *Opzeggen* ends the contract on 31 July of the running school year
    and is possible until 30 June; not for a contract cancelled already or one that ends in
    this school year anyway (nothing to cancel). The one answer the pages (the button, the
    status texts) and `services.cancel_contract` follow."""
    year_end, deadline = school_year_end(today), cancellation_deadline(today)
    if contract.cancelled_at is not None:
        reason = ALREADY_CANCELLED
    elif contract.end <= year_end:
        reason = ENDS_THIS_YEAR
    elif today > deadline:
        reason = DEADLINE_PASSED
    else:
        reason = ""
    return CancelOption(not reason, reason, year_end, deadline)


def contracts_for_school(school: School, *, publisher_id: Any = None, product_type: str = "",
                         contract_type: str = "", today: datetime.date | None = None
                         ) -> list[ContractRow]:
    """The school's contracts for *Licentiebeheer*, with the number of linked groups and
    children, filtered by publisher, product type and contract type. A contract for an older
    version of a method shows as to be ended when the school has a running or future contract
    for the newer version."""
    today = today or timezone.localdate()
    contracts = for_school(Contract, school).select_related("product", "publisher").annotate(
        group_count=Count("group_licences", filter=Q(group_licences__removed_at__isnull=True),
                          distinct=True),
        child_count=Count("child_licences", filter=Q(child_licences__removed_at__isnull=True),
                          distinct=True),
    ).order_by("publisher__name", "product__name", "number")
    if publisher_id:
        contracts = contracts.filter(publisher_id=publisher_id)
    if product_type:
        contracts = contracts.filter(product__product_type=product_type)
    if contract_type:
        contracts = contracts.filter(contract_type=contract_type)
    # Newer versions the school has running or still to come (a cancelled one counts until
    # the day it ends, like everywhere else).
    replaced = set(for_school(Contract.objects.running_from(today), school).filter(
        product__replaces__isnull=False).values_list("product__replaces_id", flat=True))
    rows = []
    for c in contracts:
        status = contract_status(c, today)
        # *te beëindigen* asks the school to act: only for a contract it has not cancelled
        # and that has not ended (the page then says what it can do: decision 0012).
        to_end = c.product_id in replaced and status in (RUNNING, FUTURE)
        rows.append(ContractRow(c, c.group_count, c.child_count,
                                status, to_end))
    return rows


def school_contracts(school: School) -> QuerySet[Contract]:
    """This school's contracts, with product and publisher (a view fetches one by its id and
    answers 404 for any other)."""
    return for_school(Contract, school).select_related("product", "publisher")


def group_links(contract: Contract) -> list[GroupLicence]:
    return list(GroupLicence.objects.filter(contract=contract, removed_at__isnull=True)
                .select_related("group").order_by("group__name"))


# Why a link made by hand asks the coordinator to look again.
YEAR_GROUP_CHANGED, GROUP_GONE = "year_group_changed", "group_gone"


@dataclass(frozen=True)
class LinkToReview:
    link: GroupLicence
    reason: str  # YEAR_GROUP_CHANGED or GROUP_GONE


def hand_links_to_review(school: School, *, today: datetime.date | None = None,
                         contract: Contract | None = None) -> list[LinkToReview]:
    """RULE (issue 16, the rollover): a group link made by hand is kept by every import, but
    asks for review when the group's year group changed after the link was made (a LAS that
    moves a class up keeps its key and raises its year group: the method the coordinator
    chose may now be a year too young), or when the group left the roster. Automatic links need
    no review: `services.auto_link` recomputes them. Only links of contracts that still run or
    are to come. Told from the roster's change log (`RosterEvent` with "jaargroep" among its
    fields), so no mark is stored: a link made or made again after the change is not flagged."""
    today = today or timezone.localdate()
    links = GroupLicence.objects.filter(
        runs_from_q(today, prefix="contract__"), contract__school=school, automatic=False,
        removed_at__isnull=True,
    ).select_related("group", "contract", "contract__product").order_by(
        "contract__product__name", "group__name")
    if contract is not None:
        links = links.filter(contract=contract)
    links_list = list(links)
    if not links_list:
        return []
    first = min(link.created_at for link in links_list)
    changed: dict[int, list[datetime.datetime]] = defaultdict(list)
    for group_id, fields, when in for_school(RosterEvent, school).filter(
            entity=RosterEvent.Entity.GROUP, action=RosterEvent.Action.CHANGED,
            entity_id__in={link.group_id for link in links_list}, created_at__gte=first,
    ).values_list("entity_id", "fields", "created_at"):
        if "jaargroep" in (fields or []):
            changed[group_id].append(when)
    found = []
    for link in links_list:
        if not link.group.active:
            found.append(LinkToReview(link, GROUP_GONE))
        elif any(when >= link.created_at for when in changed.get(link.group_id, [])):
            found.append(LinkToReview(link, YEAR_GROUP_CHANGED))
    return found


def removed_group_links(contract: Contract) -> list[GroupLicence]:
    """Links removed by hand: shown so the coordinator sees why automatic linking left them."""
    return list(GroupLicence.objects.filter(contract=contract, removed_at__isnull=False)
                .select_related("group", "removed_by").order_by("group__name"))


def child_links(contract: Contract) -> list[ChildLicence]:
    return list(ChildLicence.objects.filter(contract=contract, removed_at__isnull=True)
                .select_related("pupil", "pupil__group")
                .order_by("pupil__last_name", "pupil__first_name"))


def linkable_groups(school: School, contract: Contract) -> list[Group]:
    linked = GroupLicence.objects.filter(contract=contract, removed_at__isnull=True)
    return list(for_school(Group, school).filter(active=True).exclude(
        pk__in=linked.values("group_id")).order_by("kind", "name"))


def linkable_children(school: School, contract: Contract, group_id: Any) -> list[Pupil]:
    """The active children of one group of this school not linked to the contract yet."""
    try:
        pk = int(group_id)
    except (TypeError, ValueError):
        return []
    linked = ChildLicence.objects.filter(contract=contract, removed_at__isnull=True)
    return list(for_school(Pupil, school).filter(active=True).filter(
        Q(group_id=pk) | Q(pupilcluster__group_id=pk)).exclude(
        pk__in=linked.values("pupil_id")).distinct().order_by("last_name", "first_name"))


def seats_free(contract: Contract, used: int) -> int | None:
    """Seats still free on a per-child contract; None for a contract without seats."""
    if contract.contract_type != Contract.Type.CHILD or contract.seats is None:
        return None
    return max(contract.seats - used, 0)


def seats_used(contract: Contract) -> int:
    return ChildLicence.objects.filter(contract=contract, removed_at__isnull=True).count()


# ---------------------------------------------------------------------------------------------
# What an irreversible action would change: the numbers its confirmation states (issue 11)
# ---------------------------------------------------------------------------------------------
def pupils_losing_group_link(school: School, contract: Contract, group: Group) -> int:
    """RULE: how many active pupils of `group` (its own pupils, or a cluster's members) lose
    this licence when the group is unlinked: all of them except those who keep it through
    another linked group or cluster of theirs, or a child licence on this contract."""
    members = for_school(Pupil, school).filter(active=True).filter(
        Q(group_id=group.pk) | Q(pupilcluster__group_id=group.pk)).distinct()
    other_groups = GroupLicence.objects.filter(
        contract=contract, removed_at__isnull=True, group__active=True).exclude(
        group_id=group.pk).values("group_id")
    keep = members.filter(
        Q(group_id__in=other_groups) | Q(pupilcluster__group_id__in=other_groups)
        | Q(pk__in=ChildLicence.objects.filter(contract=contract, removed_at__isnull=True)
            .values("pupil_id")))
    return members.count() - keep.distinct().count()


@dataclass(frozen=True)
class PublisherReach:
    """Who can open something of one publisher at a school today, through its licences."""

    pupils: int
    teachers: int
    products: list[str]  # the names of the tiles, as they show


def publisher_reach(school: School, publisher_id: int,
                    today: datetime.date | None = None) -> PublisherReach:
    """RULE: what unticking the publisher in *Uitgeverijen* stops at once: the pupils and
    teachers who may open at least one of its products today (the access rule,
    `access_for_school`), and those products' tiles."""
    pupils = teachers = 0
    products: set[str] = set()
    for access in access_for_school(school, today=today).values():
        mine = [p.product.name for p in access.products if p.product.publisher_id == publisher_id]
        if mine:
            products.update(mine)
            if access.role == "pupil":
                pupils += 1
            else:
                teachers += 1
    return PublisherReach(pupils, teachers, sorted(products))


def open_join_notices(school: School, group_ids: list[int] | None = None) -> list[JoinNotice]:
    """Children who joined a licensed group and whose lesson week is not started yet."""
    notices = for_school(JoinNotice, school).filter(
        dismissed_at__isnull=True, pupil__active=True).select_related("pupil", "group")
    if group_ids is not None:
        notices = notices.filter(group_id__in=group_ids)
    return list(notices)


def licences_as_json(school: School) -> dict[str, Any]:
    """The school's contracts and links as `klaspoort licences BRIN6 --json` prints them."""
    contracts = list(for_school(Contract, school).select_related("product", "publisher")
                     .order_by("number"))
    groups: dict[int, list[str]] = defaultdict(list)
    auto: dict[int, list[str]] = defaultdict(list)
    for contract_id, key, automatic in GroupLicence.objects.filter(
            contract__school=school, removed_at__isnull=True).order_by("group__key").values_list(
            "contract_id", "group__key", "automatic"):
        groups[contract_id].append(key)
        if automatic:
            auto[contract_id].append(key)
    children: dict[int, list[str]] = defaultdict(list)
    for contract_id, key in ChildLicence.objects.filter(
            contract__school=school, removed_at__isnull=True).order_by("pupil__key").values_list(
            "contract_id", "pupil__key"):
        children[contract_id].append(key)
    return {"contracts": [{
        "number": c.number, "title": c.title, "publisher": c.publisher.name,
        "product": c.product.code, "start": c.start.isoformat(),
        "end": c.effective_end.isoformat(), "type": c.contract_type, "seats": c.seats,
        "groups": groups[c.pk], "children": children[c.pk], "auto_groups": auto[c.pk],
    } for c in contracts]}


def publishers_with_contracts(school: School) -> list[tuple[int, str]]:
    """(id, name) of the publishers the school has contracts with, for the filter."""
    rows = (for_school(Contract, school).order_by("publisher__name")
            .values_list("publisher_id", "publisher__name").distinct())
    return list(dict.fromkeys(rows))


# ---------------------------------------------------------------------------------------------
# What a publisher may see of schools (decision 0017)
# ---------------------------------------------------------------------------------------------
def _consented_to(publisher: Publisher) -> Any:
    return Exists(PublisherConsent.objects.filter(
        school_id=OuterRef("school_id"), publisher_id=publisher.pk, withdrawn_at__isnull=True))


def contracts_of_publisher(publisher: Publisher) -> Any:
    """RULE: the publisher's contracts, each with `school_consented`: true only when the school
    is on the platform and has ticked this publisher (*Uitgeverijen*). Only then may the
    publisher see the school's name; otherwise it sees the BRIN6 it sent itself, so its pages
    never tell whether a school uses Klaspoort."""
    return (Contract.objects.filter(publisher=publisher).select_related("school", "product")
            .annotate(school_consented=_consented_to(publisher)))


def school_name_for_publisher(publisher: Publisher, brin6: str) -> str:
    """The name of the school location `brin6` as this publisher may see it: its name once it
    consented to the publisher, else "" (whether or not the school is on the platform)."""
    consent = PublisherConsent.objects.filter(school_id=OuterRef("pk"), publisher_id=publisher.pk,
                                              withdrawn_at__isnull=True)
    school = School.objects.filter(brin=brin6[:4], dependancecode=brin6[4:6]).filter(
        Exists(consent)).first()
    return school.display_name if school is not None else ""
