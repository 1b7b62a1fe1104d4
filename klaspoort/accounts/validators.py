"""Password rules that Django does not ship."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class LettersAndDigitsValidator:
    """The seeds' rule: a password holds both letters and digits."""

    def validate(self, password: str, user: object = None) -> None:
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError(
                _("The password must contain both letters and digits."),
                code="password_letters_and_digits",
            )

    def get_help_text(self) -> str:
        return _("Your password must contain both letters and digits.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with its message from our catalogue: Django 5.2 changed the text to
    "%d" while its Dutch catalogue still holds the "%(min_length)d" one, so a Dutch user was
    told in English that the password is too short."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: use at least %(min_length)d character.",
            "This password is too short: use at least %(min_length)d characters.",
            self.min_length) % {"min_length": self.min_length}
