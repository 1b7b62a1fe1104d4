"""Licences (R5): publishers' products, their contracts with school locations, and the links of
a contract to groups (GroupLicence) and to children (ChildLicence).

A link removed by hand is not deleted: removing it stamps `removed_at`, so automatic linking can
tell a link the coordinator removed (and must not bring back) from one that never existed, and
the publisher's helpdesk can see who unlinked a child and when. Only an automatic link that no
longer fits its group is deleted (services.auto_link): nobody chose it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.models import Publisher, School


class PublisherMembership(models.Model):
    """A staff account of a publisher: its admin manages products, contracts and API tokens;
    its helpdesk may look up a school's licences and unlink a child licence."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("publisher admin")
        HELPDESK = "helpdesk", _("helpdesk")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="publisher_memberships")
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("publisher staff member")
        verbose_name_plural = _("publisher staff members")
        constraints = [models.UniqueConstraint(fields=["user", "publisher"],
                                               name="publisher_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.publisher}, {self.role})"


class Product(models.Model):
    class Type(models.TextChoices):
        PRACTICE = "oefensoftware", _("practice software")
        WHITEBOARD = "digibordsoftware", _("whiteboard software")
        TESTS = "toetsen", _("tests")
        TEACHER = "leerkrachtomgeving", _("teacher environment")
        REFERENCE = "naslag", _("reference")
        OTHER = "overig", _("other")

    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="products")
    # The publisher's own product code; unique per publisher, the key of imports and the API.
    code = models.CharField(_("product code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    product_type = models.CharField(_("product type"), max_length=24, choices=Type.choices,
                                    default=Type.PRACTICE)
    # Jaargroepen 1-8 the method is for, e.g. [4] or [1, 2]; empty = every year group, and then
    # nothing is linked automatically (the coordinator chooses).
    year_groups = models.JSONField(_("year groups"), default=list, blank=True)
    launch_url = models.URLField(_("launch address"), blank=True)
    allows_group_licences = models.BooleanField(_("per-group licences"), default=True)
    allows_child_licences = models.BooleanField(_("per-child licences"), default=True)
    # The older version of the same method this product replaces ("Pluspunt 4" replaces
    # "Pluspunt 3"): a school with contracts for both sees the older one as to be ended.
    replaces = models.ForeignKey("self", verbose_name=_("replaces"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="replaced_by")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["publisher", "code"],
                                               name="product_publisher_code_unique")]

    def __str__(self) -> str:
        return self.name


class ProductIcon(models.Model):
    """A product's icon as the publisher uploaded it (PNG or JPEG, checked by
    licences.icons.inspect_icon). Klaspoort stores and serves it, so a pupil's browser never
    loads anything from a publisher's server (issue 10, finding 10; decision 0021). A row of
    its own, so reading products never reads the bytes."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True,
                                   related_name="icon")
    content_type = models.CharField(max_length=16)  # image/png or image/jpeg
    data = models.BinaryField()
    # Of `data`: its first characters are in the icon's address, so a new icon gets a new
    # address and the old one may be cached for a year.
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product icon")
        verbose_name_plural = _("product icons")

    def __str__(self) -> str:
        return f"icon of product {self.product_id}"


def effective_end_of(end: datetime.date, cancelled_until: datetime.date | None) -> datetime.date:
    """RULE: the last day a contract counts: its end date, or the day it ends after
    cancellation (*Opzeggen*) when that comes first. `cancelled_until` alone decides, not
    `cancelled_at`: they are set together (services.cancel_contract)."""
    if cancelled_until is not None and cancelled_until < end:
        return cancelled_until
    return end


def counts_until_q(day: datetime.date, prefix: str = "") -> models.Q:
    """Rows whose contract's effective end (`effective_end_of`) is `day` or later, as a filter:
    `prefix` is the lookup path to the contract, e.g. "contract__" on GroupLicence."""
    return (models.Q(**{f"{prefix}end__gte": day})
            & (models.Q(**{f"{prefix}cancelled_until__isnull": True})
               | models.Q(**{f"{prefix}cancelled_until__gte": day})))


def running_q(day: datetime.date, prefix: str = "") -> models.Q:
    """RULE: a contract runs on `day` from its start date to its effective end, both inclusive
    (`Contract.runs_on` for one contract), as a filter: `prefix` is the lookup path to the
    contract, e.g. "contract__" to filter GroupLicence or ChildLicence rows by their contract."""
    return models.Q(**{f"{prefix}start__lte": day}) & counts_until_q(day, prefix)


def runs_from_q(day: datetime.date, prefix: str = "") -> models.Q:
    """RULE: the contract runs on `day` or on a later day (running or still to come), as a
    filter (`Contract.runs_from` for one contract). A contract cancelled before it started
    never runs, so it does not count."""
    ever_runs = (models.Q(**{f"{prefix}cancelled_until__isnull": True})
                 | models.Q(**{f"{prefix}cancelled_until__gte": models.F(f"{prefix}start")}))
    return counts_until_q(day, prefix) & ever_runs


class ContractQuerySet(models.QuerySet["Contract"]):
    def running_on(self, day: datetime.date) -> ContractQuerySet:
        """The contracts that run on `day` (`running_q`)."""
        return self.filter(running_q(day))

    def running_from(self, day: datetime.date) -> ContractQuerySet:
        """The contracts that run on `day` or a later day (`runs_from_q`)."""
        return self.filter(runs_from_q(day))

    def ended_by(self, day: datetime.date) -> ContractQuerySet:
        """The contracts whose effective end lies before `day`."""
        return self.exclude(counts_until_q(day))


ContractManager = models.Manager.from_queryset(ContractQuerySet)


class Contract(models.Model):
    class Type(models.TextChoices):
        GROUP = "group", _("Normal (per group)")
        CHILD = "child", _("per child")

    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="contracts")
    # The school location as the publisher sent it. A contract for a BRIN6 that is not on the
    # platform yet is held with `school` empty and attached when the school arrives
    # (receivers.school_saved), so the publisher cannot tell which schools use Klaspoort
    # (decision 0017). A contract without a school grants nothing.
    brin6 = models.CharField(_("BRIN6"), max_length=6, db_index=True)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="contracts",
                               null=True, blank=True)
    # The publisher's contract number: unique per publisher, so a re-sent contract updates.
    number = models.CharField(_("contract number"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contracts")
    start = models.DateField(_("start date"))
    # Inclusive: the contract still counts on its end date.
    end = models.DateField(_("end date"))
    contract_type = models.CharField(_("type"), max_length=8, choices=Type.choices,
                                     default=Type.GROUP)
    # Number of children for a per-child contract; None for a per-group contract.
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    # Opzeggen: the school cancels for the next school year; the contract then ends on the last
    # day of the current school year (cancelled_until), whatever `end` says.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    cancelled_until = models.DateField(_("ends after cancellation"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContractManager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start", "number"]
        constraints = [
            models.UniqueConstraint(fields=["publisher", "number"],
                                    name="contract_publisher_number_unique"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")),
                                   name="contract_end_not_before_start"),
        ]
        indexes = [models.Index(fields=["school", "end"], name="contract_school_end")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A contract made for a known school (operator, tests) carries that school's BRIN6.
        if not self.brin6 and self.school is not None:
            self.brin6 = self.school.brin6
        super().save(*args, **kwargs)

    @property
    def effective_end(self) -> datetime.date:
        """The last day the contract counts: its end date, or earlier after cancellation."""
        return effective_end_of(self.end, self.cancelled_until)

    def runs_on(self, day: datetime.date) -> bool:
        """Whether the contract runs on `day` (`running_q`, the same rule as a filter)."""
        return self.start <= day <= self.effective_end

    def runs_from(self, day: datetime.date) -> bool:
        """Whether the contract runs on `day` or a later day (`runs_from_q`)."""
        return day <= self.effective_end and self.start <= self.effective_end


class Link(models.Model):
    """What a group link and a child link share: who made it, how, and its removal."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+")
    # True when automatic linking made it (by year group); shown as such to the coordinator.
    automatic = models.BooleanField(_("automatic"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")

    class Meta:
        abstract = True

    @property
    def active(self) -> bool:
        return self.removed_at is None


class GroupLicence(Link):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="group_licences")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="licences")

    class Meta:
        verbose_name = _("group licence")
        verbose_name_plural = _("group licences")
        # One row per contract and group, removed or not: a removal by hand is remembered.
        constraints = [models.UniqueConstraint(fields=["contract", "group"],
                                               name="group_licence_unique")]

    def __str__(self) -> str:
        return f"{self.contract_id} → group {self.group_id}"


class ChildLicence(Link):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE,
                                 related_name="child_licences")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="licences")

    class Meta:
        verbose_name = _("child licence")
        verbose_name_plural = _("child licences")
        constraints = [models.UniqueConstraint(fields=["contract", "pupil"],
                                               name="child_licence_unique")]
        indexes = [models.Index(fields=["pupil", "removed_at"], name="child_licence_pupil")]

    def __str__(self) -> str:
        return f"{self.contract_id} → pupil {self.pupil_id}"


class JoinNotice(models.Model):
    """A pupil joined a group that has licences: the group's teachers are asked to start the
    running lesson week or block for that child (seed 002). Shown until a teacher dismisses it."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_notices")
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("join notice")
        verbose_name_plural = _("join notices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"pupil {self.pupil_id} joined group {self.group_id}"
