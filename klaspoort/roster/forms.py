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
