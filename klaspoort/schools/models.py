"""The school (a location: BRIN + dependancecode) and who administers it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_public_school_id() -> str:
    """A School ID: random and unguessable, yet short enough to read out or type on a tablet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without confusion
    return "".join(secrets.choice(alphabet) for _ in range(12))


def new_pupil_page_ref() -> str:
    """128 random bits, URL-safe: nobody finds a school's pupil page by trying."""
    return secrets.token_urlsafe(16)


class School(models.Model):
    brin = models.CharField(_("BRIN"), max_length=4)
    dependancecode = models.CharField(_("location code"), max_length=2, default="00")
    name = models.CharField(_("name"), max_length=200, blank=True)
    public_id = models.CharField(
        _("School ID"), max_length=16, unique=True, default=new_public_school_id, editable=False
    )
    # The school year of the latest applied roster file ("2025-2026"), as the LAS wrote it: a
    # fact about the user data, never the current school year. Between 1 August and the new
    # year's first import it is still last year's; roster.diff.is_new_school_year compares a
    # new file against it. Every page and rule that needs the current school year derives it
    # from the date (selectors.current_school_year).
    school_year = models.CharField(_("school year of the latest user data"), max_length=9,
                                   blank=True)
    # The unguessable reference in the school's pupil-page shortcut (/leerling/<ref>/), like the
    # incumbent's INSTELLING_REF: the page is only found through the shortcut, never listed.
    pupil_page_ref = models.CharField(max_length=32, unique=True, default=new_pupil_page_ref,
                                      editable=False)
    # Thuisinlog (R4.2): pupils may sign in away from the school's addresses. Off by default.
    home_signin_enabled = models.BooleanField(
        _("home sign-in allowed"), default=False,
        help_text=_("Pupils may sign in at home with the School ID."))
    require_second_factor = models.BooleanField(
        _("second factor required for staff"), default=False,
        help_text=_("Staff without an authenticator app are walked through setting one up."))
    # The coordinators' reminders by e-mail (*Herinneringen* on *Gegevens*), each on by default.
    remind_year_start = models.BooleanField(_("reminder before the school year starts"),
                                            default=True)
    remind_cancellation = models.BooleanField(_("reminder to cancel contracts"), default=True)
    remind_results_erasure = models.BooleanField(_("reminder before the results erasure"),
                                                 default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        constraints = [
            models.UniqueConstraint(fields=["brin", "dependancecode"], name="school_brin6_unique")
        ]
        ordering = ["name", "brin", "dependancecode"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.brin6})"

    @property
    def brin6(self) -> str:
        return f"{self.brin}{self.dependancecode}"

    @property
    def display_name(self) -> str:
        return self.name or f"School {self.brin6}"


class SchoolMembership(models.Model):
    """A staff user's role at a school. A coordinator may serve several schools (R1.4)."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("ICT coordinator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="school_memberships"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.COORDINATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "school", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}, {self.school}"


class CatalogueEntry(models.Model):
    """An organisation a school can choose from; operators extend the list in the admin."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    website = models.URLField(_("website"), blank=True)
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Inactive entries are not offered to schools and cannot be chosen."))

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Publisher(CatalogueEntry):
    """An educational publisher that may receive a school's data once the school consents."""

    class Meta(CatalogueEntry.Meta):
        verbose_name = _("publisher")
        verbose_name_plural = _("publishers")


class NetworkProvider(CatalogueEntry):
    """A company that runs the school's network or learning environment."""

    class Meta(CatalogueEntry.Meta):
        verbose_name = _("network provider")
        verbose_name_plural = _("network providers")


class Consent(models.Model):
    """A school's permission, kept forever: withdrawing fills withdrawn_at instead of deleting."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, related_name="+")
    given_at = models.DateTimeField(_("given at"))
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-given_at", "-pk"]


class PublisherConsent(Consent):
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="consents")

    class Meta(Consent.Meta):
        verbose_name = _("publisher consent")
        verbose_name_plural = _("publisher consents")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "publisher"], condition=models.Q(withdrawn_at__isnull=True),
                name="publisher_consent_one_open")
        ]

    def __str__(self) -> str:
        return f"{self.school}: {self.publisher}"


class NetworkProviderConsent(Consent):
    provider = models.ForeignKey(NetworkProvider, on_delete=models.PROTECT,
                                 related_name="consents")

    class Meta(Consent.Meta):
        verbose_name = _("network provider choice")
        verbose_name_plural = _("network provider choices")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "provider"], condition=models.Q(withdrawn_at__isnull=True),
                name="provider_consent_one_open")
        ]

    def __str__(self) -> str:
        return f"{self.school}: {self.provider}"


class SchoolNetwork(models.Model):
    """A public address or range of the school (*IP-adres toevoegen*), in normalised CIDR form."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="networks")
    network = models.CharField(_("IP address or range"), max_length=64)
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("school network")
        verbose_name_plural = _("school networks")
        ordering = ["network"]
        constraints = [
            models.UniqueConstraint(fields=["school", "network"], name="school_network_unique")
        ]

    def __str__(self) -> str:
        return f"{self.network} ({self.label})" if self.label else self.network


class SentReminder(models.Model):
    """A reminder by e-mail that went to a school's coordinators: each kind once per school and
    school year, so a daily task that runs twice (or on each day of its window) sends it once.
    Written by schools.reminders and licences.reminders."""

    class Kind(models.TextChoices):
        YEAR_START = "year_start", _("before the school year starts")
        CANCELLATION = "cancellation", _("contracts to cancel")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The school year the reminder is about ("2026-2027").
    school_year = models.CharField(max_length=9)
    sent_at = models.DateTimeField(auto_now_add=True)
    mails = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "kind", "school_year"],
                                               name="sent_reminder_once_a_year")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.kind} {self.school_year}"
