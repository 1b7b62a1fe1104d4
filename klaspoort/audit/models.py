"""The audit trail: who changed what, at which school, before and after, from where (issue 3).

Entries are written once and never changed: save() of an existing row and delete() raise, so a
trail cannot be tidied up afterwards, not even by code that means well.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditAction(models.TextChoices):
    """Every action the trail records. The value is stored in every entry (never change one:
    old entries would lose their label); the label is what the *Logboek* shows."""

    ACCOUNTS_COORDINATOR_INVITE = "accounts.coordinator.invite", _("ICT coordinator invited")
    ACCOUNTS_INVITATION_RESEND = "accounts.invitation.resend", _("Invitation sent again")
    ACCOUNTS_TEACHER_EMAIL = "accounts.teacher.email", _("Teacher's e-mail address added")
    ACCOUNTS_COORDINATOR_FROM_ROSTER = (
        "accounts.coordinator.from_roster", _("ICT coordinator added from the user data"))
    ACCOUNTS_TEACHER_EMAIL_FROM_ROSTER = (
        "accounts.teacher.email_from_roster",
        _("Teacher's e-mail address taken from the user data"))
    ACCOUNTS_COORDINATOR_ACCEPT = (
        "accounts.coordinator.accept", pgettext_lazy("logboek", "Invitation accepted"))
    ACCOUNTS_COORDINATOR_REMOVE = (
        "accounts.coordinator.remove", pgettext_lazy("logboek", "ICT coordinator removed"))

    SCHOOLS_IP_ADD = "schools.ip.add", _("IP address added")
    SCHOOLS_IP_REMOVE = "schools.ip.remove", _("IP address removed")
    SCHOOLS_SECOND_FACTOR_REQUIRE = (
        "schools.second_factor.require", _("Two-step verification requirement changed"))
    SCHOOLS_PUBLISHER_GIVE = "schools.publisher.give", _("Consent given to a publisher")
    SCHOOLS_PUBLISHER_WITHDRAW = (
        "schools.publisher.withdraw", _("Consent withdrawn from a publisher"))
    SCHOOLS_NETWORK_PROVIDER_GIVE = "schools.network_provider.give", _("Network provider ticked")
    SCHOOLS_NETWORK_PROVIDER_WITHDRAW = (
        "schools.network_provider.withdraw", _("Network provider unticked"))
    SCHOOLS_REMINDERS_SET = "schools.reminders.set", _("E-mail reminders switched")

    ROSTER_UPLOAD = "roster.upload", _("User data file uploaded")
    ROSTER_IMPORT_CONFIRM = (
        "roster.import.confirm", _("Import that deactivates many confirmed (process anyway)"))
    ROSTER_IMPORT_CANCEL = "roster.import.cancel", _("Import cancelled")
    ROSTER_SECRET_CHANGE = "roster.secret.change", _("Pupil's sign-in secret changed")
    ROSTER_SECRET_REGENERATE = "roster.secret.regenerate", _("New sign-in secrets for a group")
    ROSTER_SECRET_METHOD = "roster.secret.method", _("Group's sign-in method switched")
    ROSTER_SECRET_CHOOSE = (
        "roster.secret.choose", pgettext_lazy("logboek", "Pupil's pincode chosen by hand"))
    ROSTER_COUPLING_ON = "roster.coupling.on", _("Automatic coupling switched on")
    ROSTER_COUPLING_OFF = "roster.coupling.off", _("Automatic coupling switched off")
    ROSTER_COUPLING_KEY = (
        "roster.coupling.key", _("Authorisation key of the automatic coupling changed"))

    SIGNIN_PUPIL_UNLOCK = "signin.pupil.unlock", _("Pupil unlocked after wrong sign-in attempts")
    SIGNIN_CARD_ISSUE = "signin.card.issue", _("Sign-in cards issued")
    SIGNIN_CARD_VOID = "signin.card.void", _("Sign-in card voided")
    SIGNIN_CARD_REISSUE = "signin.card.reissue", _("New sign-in card made")
    SIGNIN_HOME_SET = "signin.home.set", _("Home sign-in switched")

    LICENCES_GROUP_LINK = "licences.group.link", _("Group linked to a licence")
    LICENCES_GROUP_UNLINK = "licences.group.unlink", _("Group removed from a licence")
    LICENCES_CHILD_LINK = "licences.child.link", _("Child linked to a licence")
    LICENCES_CHILD_UNLINK = (
        "licences.child.unlink", _("Child licence freed by the publisher's helpdesk"))
    LICENCES_CONTRACT_CANCEL = "licences.contract.cancel", _("Contract cancelled (opzeggen)")
    LICENCES_AUTO_LINK = "licences.auto_link", _("Groups linked automatically by year group")
    LICENCES_CONTRACT_CREATE = "licences.contract.create", _("Contract added by the publisher")
    LICENCES_CONTRACT_UPDATE = "licences.contract.update", _("Contract changed by the publisher")
    LICENCES_PRODUCT_CREATE = "licences.product.create", _("Product added")
    LICENCES_PRODUCT_UPDATE = "licences.product.update", _("Product changed")
    LICENCES_PRODUCT_ICON = (
        "licences.product.icon", pgettext_lazy("logboek", "Product icon changed"))

    EXCHANGE_TOKEN_CREATE = "exchange.token.create", _("Publisher API token created")
    EXCHANGE_TOKEN_REVOKE = "exchange.token.revoke", _("Publisher API token revoked")
    EXCHANGE_NETWORK_TOKEN_CREATE = (
        "exchange.network_token.create", _("Network provider API token created"))
    EXCHANGE_NETWORK_TOKEN_REVOKE = (
        "exchange.network_token.revoke", _("Network provider API token revoked"))

    SSO_CLIENT_CREATE = "sso.client.create", _("Single sign-on client registered")
    SSO_CLIENT_UPDATE = "sso.client.update", _("Single sign-on client changed")
    SSO_CLIENT_DISABLE = "sso.client.disable", _("Single sign-on client switched off")
    SSO_CLIENT_ENABLE = "sso.client.enable", _("Single sign-on client switched on again")
    SSO_CLIENT_DELETE = "sso.client.delete", _("Single sign-on client deleted")
    SSO_SECRET_ROTATE = "sso.secret.rotate", _("New client secret made (the old one overlaps)")
    SSO_SECRET_END_OVERLAP = "sso.secret.end_overlap", _("Previous client secret revoked")
    EXCHANGE_ONEROSTER_CLIENT_CREATE = (
        "exchange.oneroster.create", _("OneRoster client created"))
    EXCHANGE_ONEROSTER_CLIENT_REVOKE = (
        "exchange.oneroster.revoke", _("OneRoster client revoked"))
    EXCHANGE_WEBHOOK_SET = "exchange.webhook.set", _("Webhook address saved")
    EXCHANGE_WEBHOOK_SECRET = (
        "exchange.webhook.secret", _("New webhook signing secret made"))
    EXCHANGE_WEBHOOK_REMOVE = "exchange.webhook.remove", _("Webhook removed")
    EXCHANGE_LAS_TOKEN_CREATE = "exchange.las_token.create", _("LAS API token created")
    EXCHANGE_LAS_TOKEN_REVOKE = "exchange.las_token.revoke", _("LAS API token revoked")

    RESULTS_COUPLING_ADD = "results.coupling.add", _("Results coupling added")
    RESULTS_COUPLING_REMOVE = "results.coupling.remove", _("Results coupling removed")
    RESULTS_COUPLING_KEY = (
        "results.coupling.key", _("Authorisation key of a results coupling changed"))
    RESULTS_COUPLING_SETTINGS = (
        "results.coupling.settings", _("School grade boundaries switched for a results coupling"))
    RESULTS_BACKFILL = "results.backfill", _("Earlier results sent to the pupil administration")
    RESULTS_ERASE = "results.erase", _("Results erased in the summer")
    RESULTS_GRADE_BOUNDARIES = "results.grade_boundaries", _("Grade boundaries set")


class AuditEntryImmutable(Exception):
    """An audit entry was about to be changed or deleted."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        # The one update allowed: Django clearing the link when the user or school is deleted
        # (on_delete=SET_NULL). The labels stay, so the entry still says who it was.
        if kwargs and set(kwargs) <= {"actor", "school"} and all(
                value is None for value in kwargs.values()):
            return super().update(**kwargs)
        raise AuditEntryImmutable("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditEntryImmutable("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # Kept when the user account is removed, so the trail still says who it was.
    actor_label = models.CharField(_("actor label"), max_length=254, blank=True)
    school = models.ForeignKey(
        "schools.School", verbose_name=_("school"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="audit_entries",
    )
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices)
    target = models.TextField(_("target"), blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["school", "-created_at"], name="audit_school_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AuditEntryImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEntryImmutable("Audit entries cannot be deleted.")
