"""Forms of the school's settings pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from klaspoort.network import MAX_INPUT_LENGTH, MAX_LABEL_LENGTH

UNKNOWN_CHOICE = _("The choice contains an unknown or unavailable entry. Nothing has been changed.")


class ConsentForm(forms.Form):
    """Ticks in a catalogue; only what the school may choose is accepted (see the selectors)."""

    chosen: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": UNKNOWN_CHOICE, "invalid_pk_value": UNKNOWN_CHOICE,
                        "invalid_list": UNKNOWN_CHOICE},
    )

    def __init__(self, *args: Any, offered: QuerySet[Any], label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["chosen"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = offered
        field.label = label


class NetworkForm(forms.Form):
    # No max_length on the fields: the service gives the one Dutch message for every rule, and
    # Django's own length message would quote the size of whatever was pasted.
    network = forms.CharField(
        label=_("IP address or range"), required=False,
        help_text=_("An IPv4 or IPv6 address, or a range such as 145.10.20.0/24."),
        widget=forms.TextInput(attrs={"maxlength": MAX_INPUT_LENGTH, "autocomplete": "off",
                                      "spellcheck": "false"}),
    )
    label = forms.CharField(
        label=_("Description"), required=False,
        help_text=_("For example: main building, or the annex."),
        widget=forms.TextInput(attrs={"maxlength": MAX_LABEL_LENGTH}),
    )
    confirm_wide = forms.BooleanField(
        label=_("Yes, add this wide range"), required=False)
