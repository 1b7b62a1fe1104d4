"""Forms of *Licentiebeheer* (the coordinator's side of the licences).

The forms only check the shape of the input (a number, a known choice); whether a group, child
or contract belongs to the school is decided by the views, through the tenancy helper (404).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy

from klaspoort.converters import MAX_ID_DIGITS, parse_id
from klaspoort.licences.models import Product


class ContractFilterForm(forms.Form):
    """The filter above the contract tables. An unknown value is ignored, not an error."""

    uitgeverij = forms.ChoiceField(label=gettext_lazy("Publisher"), required=False)
    soort = forms.ChoiceField(label=gettext_lazy("Product type"), required=False)

    def __init__(self, data: Any, *, publishers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(data, **kwargs)
        cast(forms.ChoiceField, self.fields["uitgeverij"]).choices = [
            ("", gettext_lazy("All publishers")),
            *[(str(pk), name) for pk, name in publishers],
        ]
        cast(forms.ChoiceField, self.fields["soort"]).choices = [
            ("", gettext_lazy("All product types")), *Product.Type.choices]

    def publisher_id(self) -> int | None:
        self.is_valid()
        return parse_id(self.cleaned_data.get("uitgeverij"))

    def product_type(self) -> str | None:
        self.is_valid()
        return self.cleaned_data.get("soort") or None

    def is_filtered(self) -> bool:
        return bool(self.publisher_id() or self.product_type())


class IdListField(forms.Field):
    """Several ids from checkboxes; each one must be a number."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": gettext_lazy("Choose at least one group."),
        "invalid": gettext_lazy("Choose a group from the list."),
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = [parse_id(item) for item in values]
        if any(item is None for item in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        # The same group twice (a double click on a checkbox list) is linked once.
        return list(dict.fromkeys(item for item in ids if item is not None))


class LinkGroupsForm(forms.Form):
    groups = IdListField()


class IdForm(forms.Form):
    """One id (a group to remove, a child to link) posted from a form on the page."""

    def __init__(self, data: Any, *, field: str, invalid: Any, **kwargs: Any):
        super().__init__(data, **kwargs)
        self.field_name = field
        self.fields[field] = forms.CharField(
            max_length=MAX_ID_DIGITS, error_messages={"required": invalid, "max_length": invalid})
        self.invalid = invalid

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.field_name in cleaned:
            value = parse_id(cleaned[self.field_name])
            if value is None:
                raise forms.ValidationError(self.invalid, code="invalid")
            cleaned[self.field_name] = value
        return cleaned

    def value(self) -> int | None:
        if not self.is_valid():
            return None
        return self.cleaned_data[self.field_name]

    def error_text(self) -> str:
        self.is_valid()
        for errors in self.errors.values():
            return str(errors[0])
        return ""
