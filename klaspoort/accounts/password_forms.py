"""The password forms of activation and *Mijn profiel*, with the rules in words that say *je*.

Django's own Dutch for these forms says *u* ("Uw wachtwoord mag …", "Uw oude wachtwoord …");
Klaspoort addresses everybody with *je*, so the help text and the one *u* error are our own.
The rules themselves are still the validators of AUTH_PASSWORD_VALIDATORS (Argon2id hashing is
PASSWORD_HASHERS's first entry).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext as _


def password_rules_text() -> str:
    """The rules of AUTH_PASSWORD_VALIDATORS in one sentence, with the configured length."""
    length = next((getattr(v, "min_length", 0) for v in
                   password_validation.get_default_password_validators()
                   if isinstance(v, password_validation.MinimumLengthValidator)), 8)
    return _("At least %(length)d characters, with both letters and digits; not like your name "
             "or e-mail address and not a well-known password.") % {"length": length}


class _Rules:
    fields: dict[str, Any]

    def _say_the_rules(self) -> None:
        self.fields["new_password1"].help_text = password_rules_text()
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password again")
        self.fields["new_password2"].help_text = ""


class NewPasswordForm(_Rules, SetPasswordForm):
    """Setting the first password from an invitation link."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._say_the_rules()


class ChangePasswordForm(_Rules, PasswordChangeForm):
    """Changing the own password in *Mijn profiel*: the current one first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._say_the_rules()
        self.fields["old_password"].label = _("Current password")
        self.error_messages = {**self.error_messages, "password_incorrect": _(
            "That is not your current password. Try again.")}
