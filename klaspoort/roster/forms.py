"""Forms of the *Beheer* pages: the roster uploads and the pupil search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from klaspoort.roster.selectors import PUPIL_SORTS


def max_upload_size() -> str:
    """The upload limit as people say it: "20 MB"."""
    limit = settings.ROSTER_MAX_UPLOAD_BYTES
    megabyte = 1024 * 1024
    if limit % megabyte == 0:
        return f"{limit // megabyte} MB"
    return str(filesizeformat(limit)).replace("\xa0", " ")


class RosterUploadForm(forms.Form):
    """One roster file. The bytes themselves are judged by the parser, not here."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        error_messages={
            "required": gettext_lazy(
                'First choose a file on your computer, then click "Import".'),
            "empty": gettext_lazy(
                "The chosen file is empty. Choose the file that your LAS created."),
            "invalid": gettext_lazy("This is not a file. Choose a file on your computer."),
        },
    )

    def __init__(self, *args: Any, accept: str = ".xml", too_large: bool = False,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"accept": accept})
        # The upload handler dropped a file over the limit: say why instead of "choose a file".
        self.too_large = too_large

    @classmethod
    def from_request(cls, request: HttpRequest, *, accept: str) -> RosterUploadForm:
        return cls(request.POST, request.FILES, accept=accept,
                   too_large=bool(getattr(request, "upload_too_large", False)))

    def clean(self) -> dict[str, Any]:
        if self.too_large:
            self.errors.pop("file", None)
            raise forms.ValidationError(
                _("The file is too large (at most %(limit)s). Nothing has been changed."),
                code="too_large", params={"limit": max_upload_size()},
            )
        super().clean()
        return self.cleaned_data


SORT_CHOICES = [(key, key) for key in PUPIL_SORTS]


class PupilSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Find a pupil"), required=False, max_length=100)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def search_text(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("q") or ""

    def sort_key(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "naam"


# ---------------------------------------------------------------------------------------------
# *Automatische koppeling*
# ---------------------------------------------------------------------------------------------
UNKNOWN_LAS = gettext_lazy("Choose a pupil administration (LAS) from the list.")


def _key_field() -> forms.CharField:
    # No max_length or stripping here: the service gives the one Dutch message for every rule
    # (roster.coupling_services.clean_key), and the page never sends a key back to the browser.
    return forms.CharField(
        label=gettext_lazy("Authorisation key"), required=False, strip=False,
        help_text=gettext_lazy(
            "You get the key from your LAS: switch the coupling with Klaspoort on there first "
            "(in ESIS, for example, under Beheer, Koppelingen activeren). Ask the helpdesk of "
            "your LAS if you cannot find it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "autocapitalize": "none"}))


class CouplingForm(forms.Form):
    """*Koppeling aanzetten*: which LAS (an active entry of the catalogue, by id) and, for a LAS
    that needs one, its authorisation key."""

    las = forms.ChoiceField(
        label=gettext_lazy("Your pupil administration (LAS)"), widget=forms.RadioSelect,
        error_messages={"required": UNKNOWN_LAS, "invalid_choice": UNKNOWN_LAS})
    key = _key_field()

    def __init__(self, *args: Any, offered: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["las"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(las.pk), las.name) for las in offered]
        self.offered = {str(las.pk): las for las in offered}

    def chosen_las(self) -> Any:
        """The chosen LAS (after is_valid); None when the choice was not one of the list."""
        return self.offered.get(self.cleaned_data.get("las", ""))

    def without_key(self) -> CouplingForm:
        """The same form with the key field emptied: a refused key is never sent back."""
        _empty_key(self)
        return self


class CouplingKeyForm(forms.Form):
    """*Sleutel wijzigen*: the new authorisation key."""

    key = _key_field()

    def without_key(self) -> CouplingKeyForm:
        _empty_key(self)
        return self


def _empty_key(form: forms.Form) -> None:
    # After validation (the errors stay): the field shows empty, never the refused key.
    if form.is_bound:
        form.data = {**form.data, form.add_prefix("key"): ""}
