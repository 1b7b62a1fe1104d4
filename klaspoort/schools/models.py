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


class School(models.Model):
    brin = models.CharField(_("BRIN"), max_length=4)
    dependancecode = models.CharField(_("location code"), max_length=2, default="00")
    name = models.CharField(_("name"), max_length=200, blank=True)
    public_id = models.CharField(
        _("School ID"), max_length=16, unique=True, default=new_public_school_id, editable=False
    )
    school_year = models.CharField(_("school year"), max_length=9, blank=True)
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
