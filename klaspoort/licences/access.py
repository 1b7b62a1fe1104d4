"""THE access rule (R5): which products a pupil or teacher may open now, through which licence,
and if not, why not. The portal, single sign-on and the publisher API all ask `access_for_user`;
*Bekijk als groep* asks `access_for_group`, the whole-school views `access_for_school`. The
*Licentiebeheer* pages' reads are in `licences.selectors`."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klaspoort.kept import Kept
from klaspoort.licences.icons import icon_url
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    GroupLicence,
    Product,
    ProductIcon,
    effective_end_of,
)
from klaspoort.roster.models import Group, Pupil, PupilCluster, Teacher, TeacherGroup
from klaspoort.schools.models import Publisher, PublisherConsent, School
from klaspoort.tenancy import for_school

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User

# Why a product of the school cannot be opened, from the first that applies.
NO_CONSENT = "no_consent"
NOT_LINKED = "not_linked"
NOT_STARTED = "not_started"
ENDED = "ended"
REASONS = {
    NO_CONSENT: _("The school has not given this publisher permission (Uitgeverijen)."),
    NOT_LINKED: _("No licence of this product is linked to you or your group."),
    NOT_STARTED: _("The licence has not started yet."),
    ENDED: _("The licence has ended."),
}


@dataclass(frozen=True)
class ProductInfo:
    """What the portal, single sign-on and the API need of a product: read as plain values, not
    model instances, because the access rule is asked on every page load and every sign-in."""

    id: int
    code: str
    name: str
    product_type: str
    icon_url: str  # Klaspoort's own address of the stored icon, or "" (licences.icons)
    launch_url: str
    publisher_id: int
    publisher_slug: str
    publisher_name: str


@dataclass(frozen=True)
class _ContractInfo:
    id: int
    number: str
    product: ProductInfo
    start: datetime.date
    end: datetime.date  # the effective end: the end date, or 31 July after cancellation

    def runs_on(self, day: datetime.date) -> bool:
        # Contract.runs_on, on the plain values the access rule reads.
        return self.start <= day <= self.end


@dataclass(frozen=True)
class ProductAccess:
    product: ProductInfo
    via: list[str]  # contract numbers, in order


@dataclass(frozen=True)
class Denied:
    product: ProductInfo
    reason: str

    @property
    def message(self) -> str:
        return str(REASONS[self.reason])


@dataclass
class Access:
    user_key: str
    role: str  # "pupil" | "teacher"
    products: list[ProductAccess] = field(default_factory=list)
    denied: list[Denied] = field(default_factory=list)

    def may_open(self, product_id: int) -> bool:
        return any(p.product.id == product_id for p in self.products)

    def as_json(self) -> dict[str, Any]:
        return {
            "user": self.user_key, "role": self.role,
            "products": [{"product": p.product.code, "publisher": p.product.publisher_slug,
                          "via": p.via} for p in self.products],
            "denied": [{"product": d.product.code, "reason": d.reason} for d in self.denied],
        }


_CONTRACT_VALUES = ("id", "number", "start", "end", "cancelled_until", "product_id",
                    "product__code", "product__name", "product__product_type",
                    "product__icon__sha256", "product__icon__content_type",
                    "product__launch_url", "publisher_id",
                    "publisher__slug", "publisher__name", "consented")


def _contracts(school_id: int, linked: Any = None) -> tuple[list[_ContractInfo], set[int],
                                                              set[int]]:
    """The school's contracts, the publishers it consents to, and (when `linked`, an Exists
    expression per contract, is given) the ids of the contracts linked to the user: one query,
    because this runs on every page load and every sign-in."""
    consent = PublisherConsent.objects.filter(
        school_id=school_id, publisher_id=OuterRef("publisher_id"), withdrawn_at__isnull=True)
    rows = Contract.objects.filter(school_id=school_id).annotate(consented=Exists(consent))
    values: tuple[str, ...] = _CONTRACT_VALUES
    if linked is not None:
        rows = rows.annotate(linked=linked)
        values += ("linked",)
    products: dict[int, ProductInfo] = {}
    contracts = []
    consented: set[int] = set()
    linked_ids: set[int] = set()
    for row in rows.order_by("product__name", "start", "number").values_list(*values):
        (pk, number, start, end, cancelled_until, product_id, code, name, product_type,
         icon_sha, icon_type, launch, publisher_id, slug, publisher_name, is_consented) = row[:16]
        product = products.get(product_id)
        if product is None:
            product = products[product_id] = ProductInfo(
                product_id, code, name, product_type, icon_url(product_id, icon_sha, icon_type),
                launch, publisher_id, slug, publisher_name)
        contracts.append(_ContractInfo(pk, number, product, start,
                                       effective_end_of(end, cancelled_until)))
        if is_consented:
            consented.add(publisher_id)
        if linked is not None and row[16]:
            linked_ids.add(pk)
    return contracts, consented, linked_ids


def _decide(contracts: list[_ContractInfo], consented: set[int], linked_ids: set[int],
            key: str, role: str, today: datetime.date) -> Access:
    """The rule, once the user's linked contracts are known (see access_for_user)."""
    access = Access(user_key=key, role=role)
    linked: dict[int, list[_ContractInfo]] = defaultdict(list)
    products: dict[int, ProductInfo] = {}
    for contract in contracts:
        products.setdefault(contract.product.id, contract.product)
        if contract.id in linked_ids:
            linked[contract.product.id].append(contract)
    for product_id, product in products.items():
        mine = linked.get(product_id, [])
        running = [c for c in mine if c.runs_on(today)]
        if not mine:
            access.denied.append(Denied(product, NOT_LINKED))
        elif product.publisher_id not in consented:
            access.denied.append(Denied(product, NO_CONSENT))
        elif running:
            access.products.append(ProductAccess(product, [c.number for c in running]))
        elif any(c.start > today for c in mine):
            access.denied.append(Denied(product, NOT_STARTED))
        else:
            access.denied.append(Denied(product, ENDED))
    return access


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Table and column names come from the models, never from input; every value is a parameter.
@functools.cache
def _sql_person() -> str:
    return (f"SELECT 'pupil', id, school_id, {connection.ops.quote_name('key')}, group_id "  # noqa: S608
            f"FROM {_table(Pupil)} WHERE user_id = %s AND active "
            f"UNION ALL SELECT 'teacher', id, school_id, {connection.ops.quote_name('key')}, "
            f"NULL FROM {_table(Teacher)} WHERE user_id = %s AND active")


@functools.cache
def _sql_contracts(role: str) -> str:
    """The school's contracts with products, publishers, consent, and whether the contract is
    linked to the user: the same rule as access_for_school, in one statement."""
    q = connection.ops.quote_name
    groups = (
        f"(g.id = %s OR g.id IN (SELECT group_id FROM {_table(PupilCluster)} "  # noqa: S608
        f"WHERE pupil_id = %s))" if role == "pupil" else
        f"g.id IN (SELECT group_id FROM {_table(TeacherGroup)} WHERE teacher_id = %s)")  # noqa: S608
    child = (f" OR EXISTS (SELECT 1 FROM {_table(ChildLicence)} cl "  # noqa: S608
             f"WHERE cl.contract_id = c.id "
             f"AND cl.pupil_id = %s AND cl.removed_at IS NULL)" if role == "pupil" else "")
    return (
        f"SELECT c.id, c.number, c.start, c.{q('end')}, c.cancelled_until, p.id, p.code, "  # noqa: S608
        f"p.name, p.product_type, pi.sha256, pi.content_type, p.launch_url, pub.id, pub.slug, "
        f"pub.name, "
        f"EXISTS (SELECT 1 FROM {_table(PublisherConsent)} pc "
        f"WHERE pc.school_id = c.school_id "
        f"AND pc.publisher_id = c.publisher_id AND pc.withdrawn_at IS NULL), "
        f"((c.contract_type = 'group' AND EXISTS (SELECT 1 FROM {_table(GroupLicence)} gl "
        f"JOIN {_table(Group)} g ON g.id = gl.group_id WHERE gl.contract_id = c.id "
        f"AND gl.removed_at IS NULL AND g.active AND {groups})){child}) "
        f"FROM {_table(Contract)} c JOIN {_table(Product)} p ON p.id = c.product_id "
        f"JOIN {_table(Publisher)} pub ON pub.id = c.publisher_id "
        f"LEFT JOIN {_table(ProductIcon)} pi ON pi.product_id = p.id "
        f"WHERE c.school_id = %s ORDER BY p.name, c.start, c.number")


def access_for_group(group: Any, *, today: datetime.date | None = None) -> Access:
    """What every pupil of this group may open through the group's own licences: the rule of
    access_for_user with only the group's links (its per-group contracts), for *Bekijk als
    groep*. A pupil may see more: their clusters' and their own per-child licences."""
    linked = Exists(GroupLicence.objects.filter(
        contract_id=OuterRef("pk"), contract__contract_type=Contract.Type.GROUP,
        group_id=group.pk, group__active=True, removed_at__isnull=True))
    contracts, consented, linked_ids = _contracts(group.school_id, linked)
    return _decide(contracts, consented, linked_ids, "", "pupil",
                   today or timezone.localdate())


def access_for_user(user: User | AnonymousUser | int, *, today: datetime.date | None = None
                    ) -> Access | None:
    """Which products this pupil or teacher may open now, through which contracts, and why not
    the school's other products.

    Rules: a pupil gets the products of licences linked to their group, their clusters, and to
    themselves (child licences, also a child of another group on a group licence); a teacher
    those of their groups and clusters. Only active groups count, and group links only on a
    per-group contract. A contract counts from its
    start date to its end date inclusive (or 31 July after cancellation), and only while the
    school consents to the publisher. Withdrawn links are ignored. None for a user who is no
    active pupil or teacher.

    This runs on every portal page, every sign-in and every token, so it is two SQL statements
    written out (the ORM spent more time building them than the database running them);
    test_whole_school_answer_equals_the_answer_per_user holds it to access_for_school's rules.
    """
    today = today or timezone.localdate()
    user_id = user if isinstance(user, int) else user.pk
    if user_id is None:
        return None  # the anonymous user: nobody's pupil or teacher
    with connection.cursor() as cursor:
        cursor.execute(_sql_person(), [user_id, user_id])
        person = cursor.fetchone()
        if person is None:
            return None
        role, person_id, school_id, key, group_id = person
        params = ([group_id, person_id, person_id, school_id] if role == "pupil"
                  else [person_id, school_id])
        cursor.execute(_sql_contracts(role), params)
        rows = cursor.fetchall()
    products: dict[int, ProductInfo] = {}
    contracts = []
    consented: set[int] = set()
    linked_ids: set[int] = set()
    for (pk, number, start, end, cancelled_until, product_id, code, name, product_type,
         icon_sha, icon_type, launch, publisher_id, slug, publisher_name, is_consented,
         is_linked) in rows:
        product = products.get(product_id)
        if product is None:
            product = products[product_id] = ProductInfo(
                product_id, code, name, product_type, icon_url(product_id, icon_sha, icon_type),
                launch, publisher_id, slug, publisher_name)
        end = effective_end_of(_date(end), _date(cancelled_until) if cancelled_until else None)
        contracts.append(_ContractInfo(pk, number, product, _date(start), end))
        if is_consented:
            consented.add(publisher_id)
        if is_linked:
            linked_ids.add(pk)
    return _decide(contracts, consented, linked_ids, key, role, today)


def kept_access_for_user(user: User | AnonymousUser | int, kept: Kept) -> Access | None:
    """access_for_user for today, kept per user and day under the access epoch
    (klaspoort.kept): the portal and a tile's launch read it once while nothing it is made of
    changes. Every table the rule reads (roster, licences, schools, consents) moves the epoch
    when written, and the day is part of the key, so a licence linked or ended, a consent
    withdrawn or a contract's last day gone by counts at the next request."""
    user_id = user if isinstance(user, int) else user.pk
    if user_id is None:
        return None
    today = timezone.localdate()
    return kept.get(kept_access_key(user_id, today),
                    lambda: access_for_user(user_id, today=today), keep_none=True)


def kept_access_key(user_id: int, today: datetime.date) -> str:
    """The name kept_access_for_user keeps a user's access under (for Kept.prefetch)."""
    return f"access:{user_id}:{today.isoformat()}"


def _date(value: Any) -> datetime.date:
    # SQLite hands raw SQL's dates back as text; PostgreSQL as dates.
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def access_for_school(school: School, *, today: datetime.date | None = None,
                      user_ids: Collection[int] | None = None) -> dict[int, Access]:
    """`access_for_user` for every active pupil and teacher of the school at once, keyed by
    user id: the same rules, in a fixed number of queries whatever the school's size. With
    `user_ids`, only for those of them (the feed's comparison of what an import touched)."""
    today = today or timezone.localdate()
    contracts, consented, _linked = _contracts(school.pk)
    contracts_of_group: dict[int, set[int]] = defaultdict(set)
    # A group link counts only on a per-group contract: a contract the publisher turned into a
    # per-child one licenses its children, not the groups it was once linked to.
    for contract_id, group_id in GroupLicence.objects.filter(
            contract__school=school, contract__contract_type=Contract.Type.GROUP,
            removed_at__isnull=True, group__active=True).values_list("contract_id", "group_id"):
        contracts_of_group[group_id].add(contract_id)
    contracts_of_pupil: dict[int, set[int]] = defaultdict(set)
    for contract_id, pupil_id in ChildLicence.objects.filter(
            contract__school=school, removed_at__isnull=True).values_list(
            "contract_id", "pupil_id"):
        contracts_of_pupil[pupil_id].add(contract_id)
    groups_of_pupil: dict[int, set[int]] = defaultdict(set)
    for pupil_id, group_id in PupilCluster.objects.filter(
            group__school=school).values_list("pupil_id", "group_id"):
        groups_of_pupil[pupil_id].add(group_id)
    result: dict[int, Access] = {}
    pupils = for_school(Pupil, school).filter(active=True)
    teachers = for_school(Teacher, school).filter(active=True)
    if user_ids is not None:
        pupils = pupils.filter(user_id__in=list(user_ids))
        teachers = teachers.filter(user_id__in=list(user_ids))
    for pupil_id, user_id, key, group_id in pupils.values_list("id", "user_id", "key",
                                                                "group_id"):
        linked = set(contracts_of_pupil.get(pupil_id, ()))
        for group in groups_of_pupil.get(pupil_id, set()) | {group_id}:
            linked |= contracts_of_group.get(group, set())
        result[user_id] = _decide(contracts, consented, linked, key, "pupil", today)
    groups_of_teacher: dict[int, set[int]] = defaultdict(set)
    for teacher_id, group_id in TeacherGroup.objects.filter(
            group__school=school).values_list("teacher_id", "group_id"):
        groups_of_teacher[teacher_id].add(group_id)
    for teacher_id, user_id, key in teachers.values_list("id", "user_id", "key"):
        linked = set()
        for group in groups_of_teacher.get(teacher_id, set()):
            linked |= contracts_of_group.get(group, set())
        result[user_id] = _decide(contracts, consented, linked, key, "teacher", today)
    return result
