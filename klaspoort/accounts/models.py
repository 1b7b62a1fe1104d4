"""One identity table for everybody who signs in: staff (e-mail) and pupils (no e-mail).

The OpenID Connect provider issues tokens for a User, so pupils are users too; their roster
record (roster.Pupil) points here. Pupils never have a usable password: they authenticate with
the school secret of the sign-in issue.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email).lower() if email else None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True, kind=User.Kind.STAFF)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Kind(models.TextChoices):
        STAFF = "staff", _("staff member")
        PUPIL = "pupil", _("pupil")

    # NULL for pupils; several NULLs do not collide in a unique index on SQLite or PostgreSQL.
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    is_staff = models.BooleanField(
        _("operator"), default=False, help_text=_("May enter the platform's operator admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of the session hash: raising it ends every session of the user ("sign out everywhere").
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # E-mail is unique in the whole platform, whatever its capitals: two teachers sharing
            # one address was a real launch problem of the incumbent.
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.email or self.display_name or f"#{self.pk}"

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        key_salt = "klaspoort.accounts.User.session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}:{self.session_generation}",
                           secret=secret, algorithm="sha256").hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.email:
            self.email = self.email.strip().lower()
        super().save(*args, **kwargs)
