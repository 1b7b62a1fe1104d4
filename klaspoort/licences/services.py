"""Licence writes (R5): linking contracts to groups and children, cancelling, automatic linking.

Every function takes the school (or, for the helpdesk, the publisher) and finds the contract
through it, so an id of another school's contract is a 404 and never a change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from klaspoort.audit.services import record, user_of
from klaspoort.licences import selectors
from klaspoort.licences.contract_import import (
    FILE,
    ContractImportResult,
    ContractRow,
    ParsedContracts,
    RowError,
    shown,
)
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    GroupLicence,
    JoinNotice,
    Product,
    running_q,
)
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import Publisher, School
from klaspoort.tenancy import for_school


def _contract(school: School, contract_id: Any, *, lock: bool = False) -> Contract:
    try:
        pk = int(contract_id)
    except (TypeError, ValueError):
        raise Http404 from None
    contracts = for_school(Contract, school).select_related("product", "publisher")
    if lock:
        contracts = contracts.select_for_update(of=("self",))
    contract = contracts.filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract


def _school_row(model: Any, school: School, row_id: Any) -> Any:
    try:
        pk = int(row_id)
    except (TypeError, ValueError):
        raise Http404 from None
    row = for_school(model, school).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def _contract_label(contract: Contract) -> str:
    return f"{contract.number} {contract.title}"


@transaction.atomic
def link_group(school: School, contract_id: Any, group_id: Any, *, actor: Any,
               request: HttpRequest | None = None) -> GroupLicence:
    """Link a group to a per-group contract by hand (several groups per contract are fine).

    The contract and the group must be this school's (404 otherwise) and the group active; the
    product must allow group licences. A link that was removed earlier comes back as a link made
    by hand. Audited.
    """
    contract = _contract(school, contract_id, lock=True)
    group = _school_row(Group, school, group_id)
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
        link.save(update_fields=["removed_at", "removed_by", "automatic", "created_by"])
    record(actor=actor, school=school, action="licences.group.link",
           target=f"{_contract_label(contract)}: {group.name}",
           after={"group": group.name}, request=request)
    return link


@transaction.atomic
def unlink_group(school: School, contract_id: Any, group_id: Any, *, actor: Any,
                 request: HttpRequest | None = None) -> None:
    """Remove a group's link (made by hand or automatically). The removal is remembered, so
    automatic linking never brings the link back; linking by hand does. Audited."""
    contract = _contract(school, contract_id, lock=True)
    group = _school_row(Group, school, group_id)
    link = GroupLicence.objects.filter(contract=contract, group=group,
                                       removed_at__isnull=True).first()
    if link is None:
        return
    link.removed_at = timezone.now()
    link.removed_by = user_of(actor)
    link.save(update_fields=["removed_at", "removed_by"])
    record(actor=actor, school=school, action="licences.group.unlink",
           target=f"{_contract_label(contract)}: {group.name}",
           before={"group": group.name, "automatic": link.automatic}, request=request)


@transaction.atomic
def link_child(school: School, contract_id: Any, pupil_id: Any, *, actor: Any,
               request: HttpRequest | None = None) -> ChildLicence:
    """Link one child to a contract.

    On a per-child contract this takes a seat, and is refused once every seat is taken (the
    contract row is locked, so two coordinators cannot both take the last seat). On a per-group
    contract it gives a child of another group the licence (group-transcending work,
    combination groups). The child must be an active pupil of this school. Audited.
    """
    contract = _contract(school, contract_id, lock=True)
    pupil = _school_row(Pupil, school, pupil_id)
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
    record(actor=actor, school=school, action="licences.child.link",
           target=f"{_contract_label(contract)}: {pupil.full_name}",
           after={"child": pupil.full_name}, request=request)
    return link


@transaction.atomic
def unlink_child_by_helpdesk(publisher: Publisher, child_licence_id: Any, *, actor: Any,
                             request: HttpRequest | None = None) -> None:
    """The publisher's helpdesk frees a child licence (a coordinator cannot: seeds' rule).

    Only a licence on one of this publisher's contracts (404 otherwise). The seat becomes free;
    the row stays with who removed it and when. Audited under the school.
    """
    try:
        pk = int(child_licence_id)
    except (TypeError, ValueError):
        raise Http404 from None
    link = (ChildLicence.objects.select_for_update(of=("self",))
            .select_related("contract__school", "pupil")
            .filter(pk=pk, contract__publisher=publisher, removed_at__isnull=True).first())
    if link is None:
        raise Http404
    link.removed_at = timezone.now()
    link.removed_by = user_of(actor)
    link.save(update_fields=["removed_at", "removed_by"])
    record(actor=actor, school=link.contract.school, action="licences.child.unlink",
           target=f"{_contract_label(link.contract)}: {link.pupil.full_name}",
           before={"child": link.pupil.full_name, "publisher": publisher.name},
           request=request)


@transaction.atomic
def cancel_contract(school: School, contract_id: Any, *, actor: Any,
                    today: datetime.date | None = None,
                    request: HttpRequest | None = None) -> Contract:
    """*Opzeggen*: the school ends a contract at the end of this school year.

    Allowed until 30 June of the school year (for the next school year); refused afterwards, and
    for a contract that ends this school year anyway or was cancelled already. The contract then
    counts until 31 July. Recorded on the contract and audited.
    """
    today = today or timezone.localdate()
    contract = _contract(school, contract_id, lock=True)
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
    record(actor=actor, school=school, action="licences.contract.cancel",
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
        record(actor=None, school=school, action="licences.auto_link",
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
def dismiss_join_notice(school: School, notice_id: Any, *, actor: Any,
                        group_ids: Iterable[int] | None = None) -> None:
    """A teacher (of the notice's group, when `group_ids` is given) or coordinator has started
    the lesson week for the child: the notice goes away. 404 for another school's notice."""
    notice = _school_row(JoinNotice, school, notice_id)
    if group_ids is not None and notice.group_id not in set(group_ids):
        raise Http404
    if notice.dismissed_at is None:
        notice.dismissed_at = timezone.now()
        notice.dismissed_by = user_of(actor)
        notice.save(update_fields=["dismissed_at", "dismissed_by"])



# ---------------------------------------------------------------------------------------------
# The publisher's side: products and contracts (portal, CSV upload, API, operator command)
# ---------------------------------------------------------------------------------------------
# No icon address: icons are uploaded in the portal and served by Klaspoort (licences.icons).
PRODUCT_FIELDS = ("name", "product_type", "year_groups", "launch_url",
                  "allows_group_licences", "allows_child_licences", "replaces")


def _product_snapshot(product: Product) -> dict[str, Any]:
    return {"code": product.code, "name": product.name, "product_type": product.product_type,
            "year_groups": product.year_groups,
            "launch_url": product.launch_url,
            "allows_group_licences": product.allows_group_licences,
            "allows_child_licences": product.allows_child_licences,
            "replaces": product.replaces.code if product.replaces else None}


@transaction.atomic
def save_product(publisher: Publisher, code: str, data: dict[str, Any], *, actor: Any,
                 product: Product | None = None, request: HttpRequest | None = None
                 ) -> tuple[Product, bool]:
    """RULES: a product belongs to one publisher and its code is unique there (the key of
    imports and the API): without `product` the code is looked up and the product created or
    updated; with `product` (the portal's edit form) the code may change if still free. Year
    groups are 1-8; a product replaces only another product of the same publisher, never
    itself. Audited (no school). Returns (product, created). Two requests creating the same
    code at once: the second updates the first one's product (never a 500)."""
    try:
        with transaction.atomic():
            return _save_product(publisher, code, data, actor=actor, product=product,
                                 request=request)
    except IntegrityError:
        return _save_product(publisher, code, data, actor=actor, product=product,
                             request=request)


def _save_product(publisher: Publisher, code: str, data: dict[str, Any], *, actor: Any,
                  product: Product | None, request: HttpRequest | None
                  ) -> tuple[Product, bool]:
    data = {name: value for name, value in data.items() if name in PRODUCT_FIELDS}
    year_groups = data.get("year_groups")
    if year_groups is not None:
        if any(isinstance(g, bool) or not isinstance(g, int) or not 1 <= g <= 8
               for g in year_groups):
            raise ValidationError(_("Year groups must be numbers 1 to 8."))
        data["year_groups"] = sorted(set(year_groups))
    replaces = data.get("replaces")
    if replaces is not None and replaces.publisher_id != publisher.pk:
        raise ValidationError(_("A product can only replace a product of the same publisher."))
    clash = Product.objects.filter(publisher=publisher, code=code)
    if product is None:
        product = clash.select_for_update().first()
    elif clash.exclude(pk=product.pk).exists():
        raise ValidationError(_("Another product already has code %(code)s.") % {"code": code})
    if replaces is not None and product is not None and replaces.pk == product.pk:
        raise ValidationError(_("A product cannot replace itself."))
    created = product is None
    before = None if product is None else _product_snapshot(product)
    if product is None:
        product = Product(publisher=publisher, code=code)
    product.code = code
    for name, value in data.items():
        setattr(product, name, value)
    product.full_clean()
    after = _product_snapshot(product)
    if before == after:
        return product, False
    product.save()
    record(actor=actor, school=None,
           action="licences.product.create" if created else "licences.product.update",
           target=f"{publisher.name} {product.code}", before=before, after=after,
           request=request)
    return product, created


# ---------------------------------------------------------------------------------------------
def _snapshot(contract: Contract) -> dict[str, Any]:
    return {"number": contract.number, "title": contract.title,
            "product": contract.product.code, "start": contract.start.isoformat(),
            "end": contract.end.isoformat(), "type": contract.contract_type,
            "seats": contract.seats, "school": contract.brin6}


class _Resolver:
    """The rows' schools, publishers and products, looked up once per delivery."""

    def __init__(self, rows: Sequence[ContractRow], publisher: Publisher | None,
                 create_unknown: bool) -> None:
        self.publisher = publisher
        self.create_unknown = create_unknown
        brins = {(row.brin6[:4], row.brin6[4:]) for row in rows}
        self.schools: dict[str, School] = {}
        # One query per distinct school would be slow for a country-wide file; the filter on
        # brin narrows it to a handful of locations each.
        for school in School.objects.filter(brin__in={b for b, _c in brins}):
            self.schools[school.brin6] = school
        self.publishers: dict[str, Publisher] = {}
        for known in Publisher.objects.all():
            self.publishers[known.name.casefold()] = known
            self.publishers[known.slug.casefold()] = known
        self.products: dict[tuple[int, str], Product] = {}

    def publisher_of(self, row: ContractRow, errors: list[RowError]) -> Publisher | None:
        named = None
        if row.publisher:
            named = (self.publishers.get(row.publisher.casefold())
                     or self.publishers.get(slugify(row.publisher)))
        if self.publisher is not None:
            if row.publisher and named != self.publisher:
                # Tenancy: a publisher's upload or API call only ever touches its own rows.
                errors.append(RowError(row.line, "publisher", _(
                    "You can only deliver contracts of %(publisher)s.")
                    % {"publisher": self.publisher.name}))
                return None
            return self.publisher
        if named is not None:
            return named
        if not self.create_unknown:
            errors.append(RowError(row.line, "publisher", _("Unknown publisher “%(value)s”.")
                                   % {"value": shown(row.publisher)}))
            return None
        slug = slugify(row.publisher)[:100]
        if not slug:
            errors.append(RowError(row.line, "publisher", _(
                "“%(value)s” cannot be used as a publisher name.") % {"value": shown(
                    row.publisher)}))
            return None
        created = Publisher.objects.create(name=row.publisher, slug=slug)
        self.publishers[created.name.casefold()] = created
        self.publishers[created.slug.casefold()] = created
        return created

    def product_of(self, publisher: Publisher, row: ContractRow, errors: list[RowError]
                   ) -> Product | None:
        key = (publisher.pk, row.product_code)
        if key not in self.products:
            found = Product.objects.filter(publisher=publisher, code=row.product_code).first()
            if found is None:
                if not row.product_name:
                    errors.append(RowError(row.line, "product_name", _(
                        "Unknown product code %(code)s: give its name to add it.")
                        % {"code": shown(row.product_code)}))
                    return None
                if not row.product_type:
                    errors.append(RowError(row.line, "product_type", _(
                        "Unknown product code %(code)s: give its product type to add it.")
                        % {"code": shown(row.product_code)}))
                    return None
                try:
                    # A savepoint: another delivery may add the same code at the same moment;
                    # then its product is the one meant (never a 500, issue 10).
                    with transaction.atomic():
                        found = Product.objects.create(
                            publisher=publisher, code=row.product_code, name=row.product_name,
                            product_type=row.product_type, year_groups=row.year_groups)
                except IntegrityError:
                    found = Product.objects.get(publisher=publisher, code=row.product_code)
            self.products[key] = found
        return self.products[key]


def _check_against_product_and_links(row: ContractRow, product: Product,
                                     existing: Contract | None, errors: list[RowError]) -> bool:
    if row.contract_type == Contract.Type.GROUP and not product.allows_group_licences:
        errors.append(RowError(row.line, "type", _("Product %(code)s has no per-group licences.")
                               % {"code": shown(product.code)}))
        return False
    if row.contract_type == Contract.Type.CHILD and not product.allows_child_licences:
        errors.append(RowError(row.line, "type", _("Product %(code)s has no per-child licences.")
                               % {"code": shown(product.code)}))
        return False
    if existing is None:
        return True
    if existing.brin6 != row.brin6:
        # The contract number is the key; moving it to another school would silently take
        # the licences away from the first one.
        errors.append(RowError(row.line, "brin6", _(
            "Contract %(number)s belongs to school %(brin6)s; a contract cannot move to another "
            "school.") % {"number": shown(row.number), "brin6": existing.brin6}))
        return False
    if row.contract_type == Contract.Type.CHILD and row.seats is not None:
        used = existing.child_licences.filter(removed_at__isnull=True).count()
        if row.seats < used:
            errors.append(RowError(row.line, "seats", _(
                "%(used)d children are linked to this contract; seats cannot be fewer.")
                % {"used": used}))
            return False
    return True


class _KeepNothing(Exception):
    """Raised inside the transaction to roll everything back after counting."""


def apply_contract_rows(rows: ParsedContracts | Sequence[ContractRow], *,
                        publisher: Publisher | None = None, actor: Any, source: str,
                        create_unknown: bool = False, confirm_partial: bool = False,
                        request: HttpRequest | None = None) -> ContractImportResult:
    """RULES: contracts are keyed by (publisher, contract number): a re-sent contract updates
    its title, dates, type, seats and product, an identical one is counted unchanged. When any
    row is bad nothing is applied unless `confirm_partial`; then the good rows apply and the
    bad ones are reported. With `publisher` (portal, API) every row must be that publisher's
    and only its own products are added; the operator (`create_unknown`) also adds unknown
    publishers. A contract never moves to another school. A contract for a well-formed BRIN6
    that is not on the platform is accepted all the same and held until the school arrives
    (`attach_held_contracts`): the answer never tells whether a school uses Klaspoort
    (decision 0017). One transaction; every created or changed contract is audited (with its
    school once it has one); automatic linking runs for every school whose contracts
    changed."""
    parsed = rows if isinstance(rows, ParsedContracts) else ParsedContracts(rows=list(rows))
    result = ContractImportResult(errors=list(parsed.errors))
    if any(error.line == FILE for error in parsed.errors):
        return result
    try:
        with transaction.atomic():
            affected = _apply(parsed.rows, result, publisher=publisher, actor=actor,
                              source=source, create_unknown=create_unknown, request=request)
            if result.errors and not confirm_partial:
                raise _KeepNothing
            for school in affected:
                auto_link(school)
            result.applied = True
    except _KeepNothing:
        result.applied = False
        result.contracts = []
    result.errors.sort(key=lambda e: e.line)
    return result


def _apply(rows: Sequence[ContractRow], result: ContractImportResult, *,
           publisher: Publisher | None, actor: Any, source: str, create_unknown: bool,
           request: HttpRequest | None) -> list[School]:
    """Apply the rows that pass the database checks; return the schools whose contracts
    changed."""

    resolver = _Resolver(rows, publisher, create_unknown)
    affected: dict[int, School] = {}
    for row in rows:
        errors: list[RowError] = []
        # None for a school not on the platform (yet): the contract is held, not refused.
        school = resolver.schools.get(row.brin6)
        owner = resolver.publisher_of(row, errors)
        if owner is None:
            result.errors.extend(errors)
            continue
        product = resolver.product_of(owner, row, errors)
        existing = _existing_contract(owner, row.number)
        if product is None or not _check_against_product_and_links(row, product, existing,
                                                                    errors):
            result.errors.extend(errors)
            continue
        wanted = {"title": row.title, "product": product, "start": row.start, "end": row.end,
                  "contract_type": row.contract_type, "seats": row.seats}
        contract = None
        if existing is None:
            try:
                # A savepoint: the same contract sent twice at once makes the second create
                # fail on the unique number; it then updates the first one's row.
                with transaction.atomic():
                    contract = Contract.objects.create(
                        publisher=owner, brin6=row.brin6, school=school, number=row.number,
                        **wanted)
            except IntegrityError:
                existing = _existing_contract(owner, row.number)
                if existing is None:
                    raise
                if not _check_against_product_and_links(row, product, existing, errors):
                    result.errors.extend(errors)
                    continue
        if contract is not None:
            result.created += 1
            record(actor=actor, school=school, action="licences.contract.create",
                   target=f"{owner.name} {row.number}", before=None,
                   after={**_snapshot(contract), "via": source}, request=request)
        else:
            assert existing is not None
            contract = existing
            if all(getattr(contract, name) == value for name, value in wanted.items()):
                result.unchanged += 1
                result.contracts.append(contract)
                continue
            before = _snapshot(contract)
            for name, value in wanted.items():
                setattr(contract, name, value)
            contract.save()
            result.updated += 1
            record(actor=actor, school=school, action="licences.contract.update",
                   target=f"{owner.name} {row.number}", before=before,
                   after={**_snapshot(contract), "via": source}, request=request)
        result.contracts.append(contract)
        if school is not None:
            affected[school.pk] = school
    return list(affected.values())


def _existing_contract(publisher: Publisher, number: str) -> Contract | None:
    return (Contract.objects.select_related("school", "product")
            .filter(publisher=publisher, number=number).first())


@transaction.atomic
def attach_held_contracts(school: School) -> int:
    """RULE: contracts publishers sent for this BRIN6 before the school was on the platform
    belong to it from the moment it arrives (a roster import or an operator creates it); then
    groups are linked by year group as for any new contract. Each attached contract is audited
    under the school as added by its publisher. Returns how many were attached."""
    held = list(Contract.objects.select_for_update().select_related("publisher", "product")
                .filter(school__isnull=True, brin6=school.brin6))
    if not held:
        return 0
    Contract.objects.filter(pk__in=[contract.pk for contract in held]).update(school=school)
    for contract in held:
        contract.school = school
        record(actor=None, school=school, action="licences.contract.create",
               target=f"{contract.publisher.name} {contract.number}", before=None,
               after={**_snapshot(contract), "via": "held"})
    auto_link(school)
    return len(held)
