"""The staff sign-in form: e-mail and password, with Dutch words a coordinator understands."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "Dit e-mailadres en wachtwoord horen niet bij elkaar. "
            "Controleer ze en probeer het opnieuw."
        ),
        "inactive": "Dit account is niet actief. Neem contact op met je ICT-coördinator.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"] = forms.EmailField(
            label="E-mailadres",
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            error_messages={
                "required": "Vul je e-mailadres in.",
                "invalid": "Vul een geldig e-mailadres in, zoals naam@school.nl.",
            },
        )
        self.fields["password"].label = "Wachtwoord"
        self.fields["password"].error_messages["required"] = "Vul je wachtwoord in."

    def clean_username(self) -> str:
        # Addresses are stored in lower case; people type them with capitals.
        return self.cleaned_data["username"].strip().lower()
