"""The audit trail: who changed what, at which school, before and after, from where (issue 3).

Entries are written once and never changed: save() of an existing row and delete() raise, so a
trail cannot be tidied up afterwards, not even by code that means well.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    action = models.CharField(_("action"), max_length=64)
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
