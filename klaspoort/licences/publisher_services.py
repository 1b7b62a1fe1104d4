"""Publisher-side licence writes (R5.1): products and contracts from the portal, the CSV
upload, the API and the operator's command, and contracts held until their school arrives.

`contract_import` checks the shape of the rows (no database); this module checks what needs the
database (school, publisher, product, tenancy) and applies them. The school's own writes
(linking, cancelling, automatic linking) are in `licences.services`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.text import slugify
from django.utils.translation import gettext as _

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.licences import icons
from klaspoort.licences.contract_import import (
    FILE,
    ContractImportResult,
    ContractRow,
    ParsedContracts,
    RowError,
    shown,
)
from klaspoort.licences.models import Contract, Product
from klaspoort.licences.services import auto_link
from klaspoort.schools.models import Publisher, School

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
def save_product(publisher: Publisher, code: str, data: dict[str, Any], *, actor: Actor,
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


def _save_product(publisher: Publisher, code: str, data: dict[str, Any], *, actor: Actor,
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
           action=(AuditAction.LICENCES_PRODUCT_CREATE if created
                   else AuditAction.LICENCES_PRODUCT_UPDATE),
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
                        publisher: Publisher | None = None, actor: Actor, source: str,
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
           publisher: Publisher | None, actor: Actor, source: str, create_unknown: bool,
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
            record(actor=actor, school=school, action=AuditAction.LICENCES_CONTRACT_CREATE,
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
            record(actor=actor, school=school, action=AuditAction.LICENCES_CONTRACT_UPDATE,
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
        record(actor=None, school=school, action=AuditAction.LICENCES_CONTRACT_CREATE,
               target=f"{contract.publisher.name} {contract.number}", before=None,
               after={**_snapshot(contract), "via": "held"})
    auto_link(school)
    return len(held)


@transaction.atomic
def save_product_with_icon(publisher: Publisher, code: str, data: dict[str, Any], *,
                           actor: Actor, product: Product | None = None,
                           icon: bytes | None = None, remove_icon: bool = False,
                           request: HttpRequest | None = None) -> tuple[Product, bool]:
    """The portal's product form: the product (save_product) and its icon (a new one stored,
    or removed) together or not at all."""
    saved, created = save_product(publisher, code, data, actor=actor, product=product,
                                  request=request)
    if icon:
        icons.store_icon(publisher, saved, icon, actor=actor, request=request)
    elif remove_icon:
        icons.remove_icon(publisher, saved, actor=actor, request=request)
    return saved, created
