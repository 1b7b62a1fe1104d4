"""Forms of the publisher portal (/uitgever/)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from klaspoort.licences.icons import MAX_ICON_BYTES, inspect_icon
from klaspoort.licences.models import Contract, Product
from klaspoort.schools.models import Publisher

YEAR_GROUP_CHOICES = [(str(n), str(n)) for n in range(1, 9)]
# A contracts file of 20,000 rows is about 2 MB; a bigger one is a mistake or goes through the
# operator's command.
MAX_CSV_BYTES = 2 * 1024 * 1024


class ProductForm(forms.ModelForm):
    year_groups = forms.MultipleChoiceField(
        label=_("Year groups"), choices=YEAR_GROUP_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Groups are linked automatically by these year groups; none ticked means "
                    "the school chooses."))

    # Not a model field: the bytes are checked here and stored by licences.icons.store_icon.
    icon = forms.FileField(
        label=_("Icon"), required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=_("PNG or JPEG, square, from 32x32 to 1024x1024 pixels, at most 256 KB. "
                    "Klaspoort keeps it and shows it on the tiles of pupils and teachers."))
    remove_icon = forms.BooleanField(label=_("Remove the icon (show the letter tile)"),
                                     required=False)
    launch_url = forms.URLField(label=_("launch address"), required=False,
                                assume_scheme="https", max_length=200)

    class Meta:
        model = Product
        fields = ["code", "name", "product_type", "year_groups", "launch_url",
                  "allows_group_licences", "allows_child_licences", "replaces"]

    def __init__(self, *args: Any, publisher: Publisher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publisher = publisher
        if self.instance.pk:
            self.initial["year_groups"] = [str(g) for g in self.instance.year_groups]
        others = Product.objects.filter(publisher=publisher)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        replaces = self.fields["replaces"]
        assert isinstance(replaces, forms.ModelChoiceField)
        replaces.queryset = others
        replaces.required = False

    def clean_icon(self) -> bytes | None:
        upload = self.cleaned_data.get("icon")
        if not upload:
            return None
        # The size is known before anything is read; a bigger file is never read at all.
        if upload.size > MAX_ICON_BYTES:
            raise forms.ValidationError(_("The icon is too large (at most 256 KB)."))
        data = bytes(upload.read(MAX_ICON_BYTES + 1))
        inspect_icon(data)  # ValidationError with the reason: format, damage or dimensions
        return data

    def clean_year_groups(self) -> list[int]:
        return sorted({int(g) for g in self.cleaned_data["year_groups"]})

    def validate_unique(self) -> None:
        # The model's own unique check needs `publisher`, which is not a form field.
        code = self.cleaned_data.get("code")
        clash = Product.objects.filter(publisher=self.publisher, code=code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if code and clash.exists():
            self.add_error("code", _("Another product already has this code."))


class ContractForm(forms.Form):
    """One contract typed in by the publisher; checked by the same rules as an upload."""

    contract_number = forms.CharField(label=_("Contract number"), max_length=64)
    brin6 = forms.CharField(label=_("BRIN6 of the school location"), max_length=6,
                            min_length=6)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    start = forms.DateField(label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("End date"), widget=forms.DateInput(attrs={"type": "date"}))
    type = forms.ChoiceField(label=_("Type"), choices=Contract.Type.choices)
    seats = forms.IntegerField(label=_("Seats"), required=False, min_value=1,
                               help_text=_("Only for a per-child contract."))

    def __init__(self, *args: Any, publisher: Publisher, contract: Contract | None = None,
                 **kwargs: Any) -> None:
        if contract is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "contract_number": contract.number, "brin6": contract.brin6,
                "product": contract.product_id, "title": contract.title,
                "start": contract.start, "end": contract.end, "type": contract.contract_type,
                "seats": contract.seats}
        super().__init__(*args, **kwargs)
        product = self.fields["product"]
        assert isinstance(product, forms.ModelChoiceField)
        product.queryset = Product.objects.filter(publisher=publisher)
        if contract is not None:
            # The number is the contract's key: another number is another contract.
            self.fields["contract_number"].disabled = True

    def as_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        product: Product = data["product"]
        return {"contract_number": data["contract_number"], "brin6": data["brin6"],
                "product_code": product.code, "title": data["title"],
                "start": data["start"].isoformat(), "end": data["end"].isoformat(),
                "type": data["type"],
                "seats": "" if data.get("seats") is None else str(data["seats"])}


# The names of the contract format, as the form calls them.
FORM_FIELD_OF_ROW = {"contract_number": "contract_number", "brin6": "brin6",
                     "product_code": "product", "title": "title", "start": "start",
                     "end": "end", "type": "type", "seats": "seats"}


class ContractFilterForm(forms.Form):
    brin6 = forms.CharField(label=_("BRIN6"), required=False, max_length=6)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(),
                                     required=False, empty_label=_("All products"))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("All")), ("running", _("Running")), ("future", _("Not started yet")),
        ("ended", _("Ended"))])

    def __init__(self, *args: Any, publisher: Publisher, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = self.fields["product"]
        assert isinstance(product, forms.ModelChoiceField)
        product.queryset = Product.objects.filter(publisher=publisher)


class ContractUploadForm(forms.Form):
    file = forms.FileField(label=_("Contracts file (CSV)"), error_messages={
        "required": _("First choose a CSV file on your computer."),
        "empty": _("The chosen file is empty."),
    })

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 2 MB)."))
        return bytes(upload.read())


class HelpdeskLookupForm(forms.Form):
    brin6 = forms.CharField(label=_("BRIN6 of the school location"), max_length=6,
                            min_length=6)

    def clean_brin6(self) -> str:
        return str(self.cleaned_data["brin6"]).strip().upper()
