"""The publisher portal's *Cijfergrenzen* page: a publisher's school-grade boundaries per
product and test type, and the form its admins set them with (the rules are
results.grade_services; the portal's tabs are licences.publisher_views')."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from klaspoort.converters import parse_id
from klaspoort.licences.guards import publisher_view
from klaspoort.licences.models import Product
from klaspoort.licences.publisher_views import ADMIN, HELPDESK, PublisherRequest, publisher_render
from klaspoort.results import grade_services
from klaspoort.results.grade_services import MAX_BANDS, GradeBoundariesInvalid, shown_grade

# A band's fields in the service's words and the form's.
_BAND_FIELDS = {"term": "term", "grade_from": "from", "grade_to": "to"}
_GRADE_INPUT = {"inputmode": "decimal", "size": "4"}


class GradeBoundaryForm(forms.Form):
    """A product, a test type and up to ten bands (term, from, to); empty rows are left out.
    The form only carries the text: every rule is grade_services.check_bands'."""

    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none(),
                                     empty_label=None)
    test_type = forms.CharField(label=gettext_lazy("Test type"), max_length=64,
                                help_text=gettext_lazy(
                                    "E.g. methodetoets. Observations have no grade boundaries."))

    def __init__(self, *args: Any, publisher: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(  # type: ignore[attr-defined]
            publisher=publisher).order_by("name", "code")
        for number in range(1, MAX_BANDS + 1):
            self.fields[f"term_{number}"] = forms.CharField(
                label=_("Term of band %(number)d") % {"number": number}, required=False,
                max_length=64)
            self.fields[f"from_{number}"] = forms.CharField(
                label=_("From grade, band %(number)d") % {"number": number}, required=False,
                max_length=4, widget=forms.TextInput(attrs=_GRADE_INPUT))
            self.fields[f"to_{number}"] = forms.CharField(
                label=_("Up to and including grade, band %(number)d") % {"number": number},
                required=False, max_length=4, widget=forms.TextInput(attrs=_GRADE_INPUT))

    def bands(self) -> list[dict[str, str]]:
        rows = []
        for number in range(1, MAX_BANDS + 1):
            values = {name: self.cleaned_data.get(f"{field}_{number}", "")
                      for name, field in _BAND_FIELDS.items()}
            if any(values.values()):
                rows.append(values)
        return rows

    def rows(self) -> list[dict[str, Any]]:
        """The band fields per row, for the template's table."""
        return [{"number": number, "fields": [self[f"{field}_{number}"]
                                              for field in _BAND_FIELDS.values()]}
                for number in range(1, MAX_BANDS + 1)]

    def add_service_errors(self, error: GradeBoundariesInvalid, rows: list[int]) -> None:
        """The service's errors on the fields they are about; `rows` maps a band's position
        among the filled rows back to its row in the form."""
        for each in error.errors:
            if each.line == 0:
                self.add_error("test_type" if each.field == "test_type" else None,
                               str(each.message))
            else:
                number = rows[each.line - 1]
                field = _BAND_FIELDS.get(each.field, "term")
                self.add_error(f"{field}_{number}", str(each.message))


def _initial(request: PublisherRequest) -> dict[str, Any]:
    """The form filled in with the boundaries chosen by the page's Wijzigen link."""
    product_id = parse_id(request.GET.get("product"))
    product = (Product.objects.filter(publisher=request.publisher, pk=product_id).first()
               if product_id is not None else None)
    test_type = request.GET.get("test_type", "")[:64]
    initial: dict[str, Any] = {"product": product, "test_type": test_type}
    bands = (grade_services.grade_boundaries_for([product.pk]).get((product.pk, test_type))
             if product is not None else None) or []
    for number, band in enumerate(bands, start=1):
        initial[f"term_{number}"] = band["term"]
        initial[f"from_{number}"] = shown_grade(round(band["grade_from"] * 10))
        initial[f"to_{number}"] = shown_grade(round(band["grade_to"] * 10))
    return initial


@publisher_view(roles=HELPDESK)
@require_http_methods(["GET", "POST"])
def grade_boundaries(request: PublisherRequest) -> HttpResponse:
    is_admin = request.publisher_membership.role in ADMIN
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        form = GradeBoundaryForm(request.POST, publisher=request.publisher)
        if form.is_valid():
            filled = [number for number in range(1, MAX_BANDS + 1)
                      if any(form.cleaned_data.get(f"{field}_{number}")
                             for field in _BAND_FIELDS.values())]
            try:
                boundary, changed = grade_services.set_grade_boundaries(
                    request.publisher, form.cleaned_data["product"],
                    form.cleaned_data["test_type"], form.bands(), actor=request.user,
                    request=request)
            except GradeBoundariesInvalid as error:
                form.add_service_errors(error, filled)
            else:
                messages.success(request, (
                    _("The grade boundaries of %(product)s for %(test_type)s have been saved.")
                    if changed else _("Nothing has changed.")) % {
                        "product": boundary.product.name, "test_type": boundary.test_type})
                return redirect("results:publisher_grade_boundaries",
                                slug=request.publisher.slug)
    else:
        form = GradeBoundaryForm(initial=_initial(request), publisher=request.publisher)
    return publisher_render(request, "results/publisher_grade_boundaries.html", {
        "form": form, "products": grade_services.boundaries_of_publisher(request.publisher),
        "may_edit": is_admin}, status=400 if form.errors else 200)
