"""Licence writes (R5): linking contracts to groups and children, cancelling, automatic linking.

Every function takes the school (or, for the helpdesk, the publisher) and finds the contract
through it, so an id of another school's contract is a 404 and never a change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record, user_of
from klaspoort.licences import selectors
from klaspoort.licences.errors import NotFound
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    GroupLicence,
    JoinNotice,
    running_q,
)
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import Publisher, School
from klaspoort.tenancy import for_school


def _locked_contract(school: School, contract: Contract) -> Contract:
    """The school's contract again, locked for this transaction (NotFound for another's)."""
    locked = (for_school(Contract, school).select_related("product", "publisher")
              .select_for_update(of=("self",)).filter(pk=contract.pk).first())
    if locked is None:
        raise NotFound
    return locked


def _of_school(school: School, row: Any) -> None:
    if row.school_id != school.pk:
        raise NotFound


def _contract_label(contract: Contract) -> str:
    return f"{contract.number} {contract.title}"


@transaction.atomic
def link_group(*, school: School, contract: Contract, group: Group, actor: Actor,
               request: HttpRequest | None = None) -> GroupLicence:
    """Link a group to a per-group contract by hand (several groups per contract are fine).

    The contract and the group must be this school's (NotFound otherwise) and the group active; the
    product must allow group licences. A link that was removed earlier comes back as a link made
    by hand. Audited.
    """
    _of_school(school, group)
    contract = _locked_contract(school, contract)
    if not group.active:
        raise ValidationError(_("This group is no longer in the school's roster."))
    if contract.contract_type != Contract.Type.GROUP or not contract.product.allows_group_licences:
        raise ValidationError(_("This licence is per child: link children, not groups."))
    link, created = GroupLicence.objects.get_or_create(
        contract=contract, group=group, defaults={"created_by": user_of(actor)})
    if not created:
        if link.active:
            return link
        link.removed_at = None
        link.removed_by = None
        link.automatic = False
        link.created_by = user_of(actor)
        # Made again now: a link made after its group's year group changed needs no review
        # (selectors.hand_links_to_review).
        link.created_at = timezone.now()
        link.save(update_fields=["removed_at", "removed_by", "automatic", "created_by",
                                 "created_at"])
    record(actor=actor, school=school, action=AuditAction.LICENCES_GROUP_LINK,
           target=f"{_contract_label(contract)}: {group.name}",
           after={"group": group.name}, request=request)
    return link


@transaction.atomic
def link_groups(*, school: School, contract: Contract, groups: list[Group], actor: Actor,
                request: HttpRequest | None = None) -> list[GroupLicence]:
    """*Groep toevoegen* with several groups: each as link_group, all or none (one refused
    group links none of them)."""
    return [link_group(school=school, contract=contract, group=group, actor=actor,
                       request=request) for group in groups]


@transaction.atomic
def unlink_group(*, school: School, contract: Contract, group: Group, actor: Actor,
                 request: HttpRequest | None = None) -> None:
    """Remove a group's link (made by hand or automatically). The removal is remembered, so
    automatic linking never brings the link back; linking by hand does. Audited."""
    _of_school(school, group)
    contract = _locked_contract(school, contract)
    link = GroupLicence.objects.filter(contract=contract, group=group,
                                       removed_at__isnull=True).first()
    if link is None:
        return
    link.removed_at = timezone.now()
    link.removed_by = user_of(actor)
    link.save(update_fields=["removed_at", "removed_by"])
    record(actor=actor, school=school, action=AuditAction.LICENCES_GROUP_UNLINK,
           target=f"{_contract_label(contract)}: {group.name}",
           before={"group": group.name, "automatic": link.automatic}, request=request)


@transaction.atomic
def link_child(*, school: School, contract: Contract, pupil: Pupil, actor: Actor,
               request: HttpRequest | None = None) -> ChildLicence:
    """Link one child to a contract.

    On a per-child contract this takes a seat, and is refused once every seat is taken (the
    contract row is locked, so two coordinators cannot both take the last seat). On a per-group
    contract it gives a child of another group the licence (group-transcending work,
    combination groups). The child must be an active pupil of this school. Audited.
    """
    _of_school(school, pupil)
    contract = _locked_contract(school, contract)
    if not pupil.active:
        raise ValidationError(_("This child is no longer in the school's roster."))
    existing = ChildLicence.objects.filter(contract=contract, pupil=pupil).first()
    if existing is not None and existing.active:
        return existing
    if contract.contract_type == Contract.Type.CHILD:
        if not contract.product.allows_child_licences:
            raise ValidationError(_("This product cannot be licensed per child."))
        if contract.seats is not None and selectors.seats_used(contract) >= contract.seats:
            raise ValidationError(_(
                "All %(seats)s licences of this contract are in use. Ask the publisher for "
                "more licences; a child licence cannot be taken from another child here."
            ) % {"seats": contract.seats})
    if existing is None:
        link = ChildLicence.objects.create(contract=contract, pupil=pupil,
                                           created_by=user_of(actor))
    else:
        link = existing
        link.removed_at = None
        link.removed_by = None
        link.created_by = user_of(actor)
        link.save(update_fields=["removed_at", "removed_by", "created_by"])
    record(actor=actor, school=school, action=AuditAction.LICENCES_CHILD_LINK,
           target=f"{_contract_label(contract)}: {pupil.full_name}",
           after={"child": pupil.full_name}, request=request)
    return link


@transaction.atomic
def unlink_child_by_helpdesk(*, publisher: Publisher, link: ChildLicence, actor: Actor,
                             request: HttpRequest | None = None) -> None:
    """The publisher's helpdesk frees a child licence (a coordinator cannot: seeds' rule).

    Only a licence on one of this publisher's contracts (NotFound otherwise, and for one freed
    a moment ago). The seat becomes free;
    the row stays with who removed it and when. Audited under the school.
    """
    locked = (ChildLicence.objects.select_for_update(of=("self",))
              .select_related("contract__school", "pupil")
              .filter(pk=link.pk, contract__publisher=publisher, removed_at__isnull=True).first())
    if locked is None:
        raise NotFound
    link = locked
    link.removed_at = timezone.now()
    link.removed_by = user_of(actor)
    link.save(update_fields=["removed_at", "removed_by"])
    record(actor=actor, school=link.contract.school, action=AuditAction.LICENCES_CHILD_UNLINK,
           target=f"{_contract_label(link.contract)}: {link.pupil.full_name}",
           before={"child": link.pupil.full_name, "publisher": publisher.name},
           request=request)


@transaction.atomic
def cancel_contract(*, school: School, contract: Contract, actor: Actor,
                    today: datetime.date | None = None,
                    request: HttpRequest | None = None) -> Contract:
    """*Opzeggen*: the school ends a contract at the end of this school year.

    Allowed until 30 June of the school year (for the next school year); refused afterwards, and
    for a contract that ends this school year anyway or was cancelled already. The contract then
    counts until 31 July. Recorded on the contract and audited.
    """
    today = today or timezone.localdate()
    contract = _locked_contract(school, contract)
    # The rule itself is selectors.cancel_option, which the pages show the button by.
    option = selectors.cancel_option(contract, today)
    if option.reason == selectors.ALREADY_CANCELLED:
        raise ValidationError(_("This contract has already been cancelled."))
    if option.reason == selectors.ENDS_THIS_YEAR:
        raise ValidationError(_(
            "This contract ends on %(end)s, in this school year; there is nothing to cancel."
        ) % {"end": contract.end.strftime("%d-%m-%Y")})
    if option.reason == selectors.DEADLINE_PASSED:
        raise ValidationError(_(
            "Cancelling for the next school year was possible until 30 June. Contact the "
            "publisher about this contract."))
    year_end = option.year_end
    contract.cancelled_at = timezone.now()
    contract.cancelled_by = user_of(actor)
    contract.cancelled_until = year_end
    contract.save(update_fields=["cancelled_at", "cancelled_by", "cancelled_until"])
    record(actor=actor, school=school, action=AuditAction.LICENCES_CONTRACT_CANCEL,
           target=_contract_label(contract),
           before={"end": contract.end.isoformat()},
           after={"end": year_end.isoformat()}, request=request)
    return contract


def group_year_groups(school: School) -> dict[int, set[int]]:
    """Each active group's year groups: its own jaargroep, and for a combination group every
    jaargroep among its active pupils (a group 4-5 counts for 4 and for 5)."""
    years: dict[int, set[int]] = {}
    for group_id, jaargroep in for_school(Group, school).filter(
            active=True, kind=Group.Kind.GROUP).values_list("id", "jaargroep"):
        years[group_id] = {int(jaargroep)} if jaargroep.isdigit() else set()
    for group_id, jaargroep in for_school(Pupil, school).filter(
            active=True, group_id__in=list(years)).values_list("group_id", "jaargroep").distinct():
        if jaargroep.isdigit():
            years[group_id].add(int(jaargroep))
    return years


@transaction.atomic
def auto_link(school: School, *, today: datetime.date | None = None) -> dict[str, int]:
    """Link groups to per-group contracts by year group, without the coordinator.

    Rules: a running or future per-group contract whose product names year groups gets every
    active group of those year groups (combination groups by their pupils' year groups); a link
    the coordinator made or removed by hand is never touched (a removed link is not re-added);
    an automatic link whose group no longer matches is taken away again. Audited as one entry
    per run that changed something. Returns the numbers added and removed.
    """
    today = today or timezone.localdate()
    years = group_year_groups(school)
    contracts = [
        c for c in for_school(Contract.objects.running_from(today), school).filter(
            contract_type=Contract.Type.GROUP,
            product__allows_group_licences=True).select_related("product")
        if c.product.year_groups
    ]
    existing = {
        (link.contract_id, link.group_id): link
        for link in GroupLicence.objects.filter(contract__in=contracts)
    }
    new: list[GroupLicence] = []
    stale: list[int] = []
    for contract in contracts:
        wanted = {int(y) for y in contract.product.year_groups}
        for group_id, group_years in years.items():
            matches = bool(group_years & wanted)
            link = existing.get((contract.pk, group_id))
            if link is None and matches:
                new.append(GroupLicence(contract=contract, group_id=group_id, automatic=True))
            elif (link is not None and link.automatic and link.removed_at is None
                  and not matches):
                stale.append(link.pk)
    # Automatic links of groups that left the roster go too: nobody linked them by hand.
    stale += [pk for (contract_id, group_id), link in existing.items()
              if link.automatic and link.removed_at is None and group_id not in years
              for pk in [link.pk]]
    GroupLicence.objects.bulk_create(new, batch_size=500)
    if stale:
        GroupLicence.objects.filter(pk__in=stale).delete()
    if new or stale:
        record(actor=None, school=school, action=AuditAction.LICENCES_AUTO_LINK,
               target=_("%(added)s added, %(removed)s removed") % {
                   "added": len(new), "removed": len(stale)},
               after={"added": len(new), "removed": len(stale)})
    return {"added": len(new), "removed": len(stale)}


@transaction.atomic
def notice_joiners(school: School, pupil_ids: Iterable[int], *,
                   today: datetime.date | None = None) -> int:
    """Pupils who just joined a group with a running licence: the group's teachers are asked to
    start the running lesson week or block for them (seed 002). One open notice per pupil and
    group. Returns the number of new notices."""
    today = today or timezone.localdate()
    pupils = list(for_school(Pupil, school).filter(
        pk__in=list(pupil_ids), active=True, group__isnull=False).values_list("id", "group_id"))
    if not pupils:
        return 0
    licensed = set(GroupLicence.objects.filter(
        running_q(today, prefix="contract__"),
        group_id__in={g for _p, g in pupils}, removed_at__isnull=True,
    ).values_list("group_id", flat=True))
    open_ = set(JoinNotice.objects.filter(
        school=school, dismissed_at__isnull=True, pupil_id__in=[p for p, _g in pupils]
    ).values_list("pupil_id", "group_id"))
    new = [JoinNotice(school=school, pupil_id=p, group_id=g) for p, g in pupils
           if g in licensed and (p, g) not in open_]
    JoinNotice.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def dismiss_join_notice(*, school: School, notice: JoinNotice, actor: Actor,
                        group_ids: Iterable[int] | None = None) -> None:
    """A teacher (of the notice's group, when `group_ids` is given) or coordinator has started
    the lesson week for the child: the notice goes away. NotFound for another school's notice,
    or another group's for a teacher."""
    _of_school(school, notice)
    if group_ids is not None and notice.group_id not in set(group_ids):
        raise NotFound
    if notice.dismissed_at is None:
        notice.dismissed_at = timezone.now()
        notice.dismissed_by = user_of(actor)
        notice.save(update_fields=["dismissed_at", "dismissed_by"])

