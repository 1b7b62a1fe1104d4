"""School-grade boundaries (*schoolcijfergrenzen*): set by the publisher per product and test
type, fixed parts of its tests that a school cannot edit (seed 000: "onvoldoende loopt van
cijfer 1 t/m 5,4, voldoende van 5,5 t/m 7,4, goed van 7,5 t/m 10"). A LAS computes school
grades from them when the school ticks *Schoolcijfergrenzen meesturen*."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.i18n import bilingual as _
from klaspoort.licences.contract_import import shown
from klaspoort.licences.errors import NotFound
from klaspoort.licences.models import Product
from klaspoort.results.models import GradeBoundary
from klaspoort.results.services import RowError
from klaspoort.schools.models import Publisher

MAX_BANDS = 10
MAX_TERM = 64
LOWEST = 10  # grades in tenths: 1.0
HIGHEST = 100  # 10.0
OBSERVATION = "observatie"
TEST_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_TERM = re.compile(r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")
_GRADE_TEXT = re.compile(r"^\s*([0-9]{1,2})(?:[.,]([0-9]))?\s*$")


class GradeBoundariesInvalid(ValueError):
    """The bands break a rule; `errors` per band (line = the band's position, from 1; 0 for
    the bands as a whole)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("invalid grade boundaries")
        self.errors = errors


def _tenths(value: Any) -> int | None:
    """A grade with at most one decimal as a whole number of tenths: 5.4, "5,4" and "5.4" are
    54; anything else (a bool, 5.45, text) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * 10
    if isinstance(value, float | Decimal):
        try:
            tenths = Decimal(str(value)) * 10
        except InvalidOperation:
            return None
        if not tenths.is_finite() or tenths != tenths.to_integral_value():
            return None
        return int(tenths)
    if isinstance(value, str) and (match := _GRADE_TEXT.match(value)):
        return int(match[1]) * 10 + int(match[2] or 0)
    return None


def shown_grade(tenths: int) -> str:
    """A grade the Dutch way: 5,4; 10."""
    whole, tenth = divmod(tenths, 10)
    return f"{whole},{tenth}" if tenth else str(whole)


def check_test_type(test_type: str) -> list[RowError]:
    if not test_type or not test_type.strip():
        return [RowError(0, "test_type", _("A test type is required (observations have no "
                                           "grade boundaries)."))]
    if test_type.strip().lower() == OBSERVATION:
        return [RowError(0, "test_type", _("Observations have no grade boundaries."))]
    if not TEST_TYPE.match(test_type.strip()):
        return [RowError(0, "test_type", _("A test type is 1 to 64 letters, digits, “-” or "
                                           "“_”, e.g. methodetoets."))]
    return []


def check_bands(bands: Any) -> list[dict[str, Any]]:
    """RULE: 1 to 10 bands, each a term (1-64 characters) and grades from and to with at most
    one decimal; in order, not overlapping and without gaps, from 1.0 up to 10.0 (the next
    band starts one tenth above where the one before ends). Returns the bands as stored
    (grades as numbers with one decimal); raises GradeBoundariesInvalid with every error."""
    if not isinstance(bands, Sequence) or isinstance(bands, str) or not 1 <= len(bands) <= (
            MAX_BANDS):
        raise GradeBoundariesInvalid([RowError(0, "bands", _(
            "Give 1 to %(max)d bands.") % {"max": MAX_BANDS})])
    errors: list[RowError] = []
    parsed: list[tuple[str, int, int]] = []
    for line, band in enumerate(bands, start=1):
        if not isinstance(band, Mapping) or set(band) - {"term", "grade_from", "grade_to"}:
            errors.append(RowError(line, "", _("A band has exactly a term, grade_from and "
                                               "grade_to.")))
            continue
        term = band.get("term")
        if not isinstance(term, str) or len(term.strip()) > MAX_TERM or not _TERM.match(term):
            errors.append(RowError(line, "term", _("A term is 1 to 64 characters, e.g. "
                                                   "voldoende.")))
        low, high = _tenths(band.get("grade_from")), _tenths(band.get("grade_to"))
        if low is not None and not LOWEST <= low <= HIGHEST:
            low = None
        if high is not None and not LOWEST <= high <= HIGHEST:
            high = None
        for name, value in (("grade_from", low), ("grade_to", high)):
            if value is None:
                errors.append(RowError(line, name, _("A grade from 1 to 10 with at most one "
                                                     "decimal, e.g. 5,5.")))
        if low is not None and high is not None and low > high:
            errors.append(RowError(line, "grade_to", _("The band ends before it starts.")))
        if isinstance(term, str) and low is not None and high is not None:
            parsed.append((term.strip(), low, high))
    if errors:
        raise GradeBoundariesInvalid(errors)
    terms = [term.lower() for term, _low, _high in parsed]
    expected = LOWEST
    for line, (term, low, high) in enumerate(parsed, start=1):
        if terms.index(term.lower()) != line - 1:
            errors.append(RowError(line, "term", _("Each band has its own term.")))
        if low != expected:
            errors.append(RowError(line, "grade_from", _(
                "This band must start at %(grade)s: the bands run from 1 to 10 in order, "
                "without gaps or overlap.") % {"grade": shown_grade(expected)}))
        expected = high + 1
    if parsed and parsed[-1][2] != HIGHEST:
        errors.append(RowError(len(parsed), "grade_to", _("The last band must end at 10.")))
    if errors:
        raise GradeBoundariesInvalid(errors)
    return [{"term": term, "grade_from": low / 10, "grade_to": high / 10}
            for term, low, high in parsed]


def bands_in_words(bands: list[dict[str, Any]]) -> str:
    """Bands as the audit trail keeps them, readable in any language: "onvoldoende 1-5,4;
    voldoende 5,5-7,4; goed 7,5-10"."""
    return "; ".join(f"{band['term']} {shown_grade(round(band['grade_from'] * 10))}-"
                     f"{shown_grade(round(band['grade_to'] * 10))}" for band in bands)


@transaction.atomic
def set_grade_boundaries(publisher: Publisher, product: Product, test_type: str, bands: Any,
                         *, actor: Actor, request: HttpRequest | None = None
                         ) -> tuple[GradeBoundary, bool]:
    """RULE: only the product's own publisher sets its grade boundaries, per test type (never
    for observations), with bands that pass check_bands. Setting the same bands again changes
    nothing; a change is audited. Returns the boundaries and whether anything changed."""
    if product.publisher_id != publisher.pk:
        raise NotFound(_("Unknown product code %(code)s.") % {"code": shown(product.code)})
    errors = check_test_type(test_type)
    if errors:
        raise GradeBoundariesInvalid(errors)
    stored = check_bands(bands)
    test_type = test_type.strip()
    boundary = (GradeBoundary.objects.select_for_update()
                .filter(product=product, test_type=test_type).first())
    before = boundary.bands if boundary is not None else None
    if before == stored:
        assert boundary is not None
        return boundary, False
    if boundary is None:
        boundary = GradeBoundary(publisher=publisher, product=product, test_type=test_type)
    boundary.bands = stored
    boundary.save()
    record(actor=actor, school=None, action=AuditAction.RESULTS_GRADE_BOUNDARIES,
           target=f"{publisher.name} {product.code} {test_type}",
           before={"bands": bands_in_words(before)} if before is not None else None,
           after={"bands": bands_in_words(stored)}, request=request)
    return boundary, True


def grade_boundaries_for(product_ids: Iterable[int]) -> dict[tuple[int, str], list[dict[str,
                                                                                          Any]]]:
    """The grade boundaries of these products, by (product id, test type): what a LAS gets
    with the results when the school ticked *Schoolcijfergrenzen meesturen*."""
    return {(product_id, test_type): bands for product_id, test_type, bands in
            GradeBoundary.objects.filter(product_id__in=list(product_ids)).values_list(
                "product_id", "test_type", "bands")}


def boundaries_of_publisher(publisher: Publisher) -> list[tuple[Product, list[GradeBoundary]]]:
    """Every product of the publisher with its grade boundaries per test type (the portal's
    *Cijfergrenzen* page)."""
    products = list(Product.objects.filter(publisher=publisher).order_by("name", "code"))
    by_product: dict[int, list[GradeBoundary]] = {product.pk: [] for product in products}
    for boundary in GradeBoundary.objects.filter(product__publisher=publisher).order_by(
            "test_type"):
        by_product.setdefault(boundary.product_id, []).append(boundary)
    return [(product, by_product[product.pk]) for product in products]
