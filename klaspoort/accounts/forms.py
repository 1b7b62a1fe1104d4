"""The staff sign-in form: e-mail and password, in words a coordinator understands."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from klaspoort.mail import queue_mail


class EmailLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "This e-mail address and password do not belong together. "
            "Check them and try again."
        ),
        "inactive": _("This account is not active. Contact your ICT coordinator."),
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"] = forms.EmailField(
            label=_("E-mail address"),
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            error_messages={
                "required": _("Fill in your e-mail address."),
                "invalid": _("Fill in a valid e-mail address, such as name@school.nl."),
            },
        )
        self.fields["password"].label = _("Password")
        self.fields["password"].error_messages["required"] = _("Fill in your password.")

    def clean_username(self) -> str:
        # Addresses are stored in lower case; people type them with capitals.
        return self.cleaned_data["username"].strip().lower()


class EmailForm(forms.Form):
    """One e-mail address, for an invitation or a teacher without one in the roster."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254,
        error_messages={
            "required": _("Fill in an e-mail address."),
            "invalid": _("Fill in a valid e-mail address, such as name@school.nl."),
        },
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class QueuedPasswordResetForm(PasswordResetForm):
    """*Wachtwoord vergeten* whose message, like every other, is in Dutch with both parts and
    leaves through klaspoort.mail.queue_mail (after commit, as a Celery task)."""

    def send_mail(self, subject_template_name: str, email_template_name: str,
                  context: dict[str, Any], from_email: str | None, to_email: str,
                  html_email_template_name: str | None = None) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            subject = "".join(
                render_to_string(subject_template_name, context).splitlines())
            text = render_to_string(email_template_name, context)
            html = render_to_string(html_email_template_name or email_template_name, context)
        queue_mail(subject, text, html, [to_email])
