"""Sign-in cards with a QR code, and the operator's maintenance notices (R8.3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from klaspoort.roster.models import Pupil
from klaspoort.schools.models import School


class PupilCard(models.Model):
    """A printed sign-in card: its QR code opens /leerling/<ref>/kaart/<token>/.

    The token is found by its SHA-256 digest (a 192-bit random token needs no slow hash). A
    sealed copy (roster.secrets encryption, the same key as the pupils' secrets) lets a
    reprint show the same QR code; a database dump without the key reveals no card. A voided
    card never signs anyone in again (decision 0013).
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="signin_cards")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_sealed = models.TextField(editable=False)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("sign-in card")
        verbose_name_plural = _("sign-in cards")
        constraints = [
            models.UniqueConstraint(fields=["pupil"], condition=models.Q(voided_at__isnull=True),
                                    name="pupil_card_one_valid")
        ]

    def __str__(self) -> str:
        return f"{self.pupil} ({self.issued_at:%Y-%m-%d})"


class MaintenanceNotice(models.Model):
    """An announced maintenance window, set by an operator and shown on the portal and the
    pupils' pages from a week before it starts until it ends."""

    message = models.TextField(_("message"), max_length=500)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance notice")
        verbose_name_plural = _("maintenance notices")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"


class SchoolSigninFacts(models.Model):
    """What the Schooljaar-checklist needs of a school's sign-ins and shortcuts (issue 16):
    when a pupil last signed in on the pupil page at school (it opens only from the school's
    addresses), and when a coordinator last downloaded the shortcuts. Per school, never per
    pupil; the sign-in writes it at most once an hour (signin.services.note_school_signin)."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="signin_facts")
    last_school_signin_at = models.DateTimeField(null=True, blank=True)
    shortcuts_downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in facts of a school")
        verbose_name_plural = _("sign-in facts of schools")

    def __str__(self) -> str:
        return str(self.school)
