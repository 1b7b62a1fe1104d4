"""School-grade boundaries: set by the product's own publisher, per test type, in bands from 1
to 10 without gaps; audited."""

import pytest

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.licences.errors import NotFound
from klaspoort.results.grade_services import (
    GradeBoundariesInvalid,
    grade_boundaries_for,
    set_grade_boundaries,
)
from klaspoort.results.models import GradeBoundary
from tests.licences.factories import ProductFactory

pytestmark = pytest.mark.django_db

SEED = [{"term": "onvoldoende", "grade_from": 1, "grade_to": 5.4},
        {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.4},
        {"term": "goed", "grade_from": 7.5, "grade_to": 10}]


@pytest.fixture
def product():
    return ProductFactory(code="ZB5")


def refused(product, bands, test_type="methodetoets"):
    with pytest.raises(GradeBoundariesInvalid) as caught:
        set_grade_boundaries(product.publisher, product, test_type, bands, actor=None)
    assert not GradeBoundary.objects.exists()
    return [(error.line, error.field) for error in caught.value.errors]


def test_the_seeds_example_is_stored_and_audited(product):
    boundary, changed = set_grade_boundaries(product.publisher, product, "methodetoets", SEED,
                                             actor=None)

    assert changed
    assert boundary.bands == [{"term": "onvoldoende", "grade_from": 1.0, "grade_to": 5.4},
                              {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.4},
                              {"term": "goed", "grade_from": 7.5, "grade_to": 10.0}]
    entry = AuditEntry.objects.get(action=AuditAction.RESULTS_GRADE_BOUNDARIES)
    assert entry.after == {"bands": "onvoldoende 1-5,4; voldoende 5,5-7,4; goed 7,5-10"}
    assert grade_boundaries_for([product.pk]) == {(product.pk, "methodetoets"): boundary.bands}


def test_dutch_decimal_commas_from_the_portal_mean_the_same(product):
    bands = [{"term": "onvoldoende", "grade_from": "1", "grade_to": "5,4"},
             {"term": "voldoende", "grade_from": "5,5", "grade_to": "10"}]

    boundary, _changed = set_grade_boundaries(product.publisher, product, "toets", bands,
                                              actor=None)

    assert [band["grade_to"] for band in boundary.bands] == [5.4, 10.0]


def test_setting_the_same_bands_again_changes_nothing(product):
    set_grade_boundaries(product.publisher, product, "methodetoets", SEED, actor=None)

    _boundary, changed = set_grade_boundaries(product.publisher, product, "methodetoets", SEED,
                                              actor=None)

    assert not changed
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_GRADE_BOUNDARIES).count() == 1


def test_a_change_replaces_the_bands_and_keeps_one_row_per_test_type(product):
    set_grade_boundaries(product.publisher, product, "methodetoets", SEED, actor=None)
    set_grade_boundaries(product.publisher, product, "methodetoets",
                         [{"term": "alles", "grade_from": 1, "grade_to": 10}], actor=None)

    assert GradeBoundary.objects.get().bands == [{"term": "alles", "grade_from": 1.0,
                                                  "grade_to": 10.0}]
    entry = AuditEntry.objects.filter(action=AuditAction.RESULTS_GRADE_BOUNDARIES).order_by(
        "pk").last()
    assert entry.before["bands"].startswith("onvoldoende 1-5,4;")
    assert entry.after == {"bands": "alles 1-10"}


def test_a_gap_between_bands_is_refused(product):
    bands = [dict(SEED[0]), {**SEED[1], "grade_from": 5.6}, dict(SEED[2])]

    assert refused(product, bands) == [(2, "grade_from")]


def test_overlapping_bands_are_refused(product):
    bands = [dict(SEED[0]), {**SEED[1], "grade_from": 5.0}, dict(SEED[2])]

    assert refused(product, bands) == [(2, "grade_from")]


def test_bands_must_start_at_1_and_end_at_10(product):
    assert refused(product, [{**SEED[0], "grade_from": 2}, *SEED[1:]]) == [(1, "grade_from")]
    assert refused(product, [*SEED[:2], {**SEED[2], "grade_to": 9.9}]) == [(3, "grade_to")]


def test_bands_out_of_order_are_refused(product):
    assert (2, "grade_from") in refused(product, [SEED[0], SEED[2], SEED[1]])


@pytest.mark.parametrize("bad", [5.45, "5.45", 0.5, 10.1, True, None, "vijf", [5], float("nan"),
                                 float("inf"), "1" * 5000])
def test_a_grade_must_be_1_to_10_with_one_decimal(product, bad):
    assert refused(product, [{**SEED[0], "grade_to": bad}, *SEED[1:]]) == [(1, "grade_to")]


@pytest.mark.parametrize("term", ["", "   ", "x" * 65, "a\x00b", 5, None])
def test_a_term_is_1_to_64_printable_characters(product, term):
    assert refused(product, [{**SEED[0], "term": term}, *SEED[1:]]) == [(1, "term")]


def test_terms_differ_and_bands_have_no_other_fields(product):
    assert refused(product, [SEED[0], {**SEED[1], "term": "Onvoldoende"}, SEED[2]]) == [
        (2, "term")]
    assert refused(product, [{**SEED[0], "colour": "red"}, *SEED[1:]]) == [(1, "")]


@pytest.mark.parametrize("bands", [[], [SEED[0]] * 11, "onvoldoende", {"term": "x"}, None])
def test_one_to_ten_bands(product, bands):
    assert refused(product, bands) == [(0, "bands")]


@pytest.mark.parametrize("test_type", ["", "  ", "observatie", "Observatie", "toets 1", "x" * 65])
def test_observations_and_odd_test_types_have_no_boundaries(product, test_type):
    assert refused(product, SEED, test_type) == [(0, "test_type")]


def test_only_the_products_own_publisher_sets_them(product):
    other = ProductFactory().publisher

    with pytest.raises(NotFound):
        set_grade_boundaries(other, product, "methodetoets", SEED, actor=None)
    assert not GradeBoundary.objects.exists()
