"""The publisher portal's *Cijfergrenzen* page: a publisher's admins see and set the grade
boundaries of their own products; the helpdesk only reads; strangers get 404."""

import pytest
from django.test import Client
from django.urls import reverse

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.licences.models import PublisherMembership
from klaspoort.results.grade_services import set_grade_boundaries
from klaspoort.results.models import GradeBoundary
from tests.factories import PASSWORD
from tests.licences.factories import ProductFactory, PublisherFactory, PublisherMemberFactory

pytestmark = pytest.mark.django_db

SEED = [{"term": "onvoldoende", "grade_from": 1, "grade_to": 5.4},
        {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.4},
        {"term": "goed", "grade_from": 7.5, "grade_to": 10}]


def signed_in(publisher, role=PublisherMembership.Role.ADMIN) -> Client:
    client = Client()
    member = PublisherMemberFactory(publisher=publisher, role=role)
    assert client.login(email=member.user.email, password=PASSWORD)
    return client


@pytest.fixture
def product():
    return ProductFactory(publisher=PublisherFactory(name="Uitgeverij Zonnebloem",
                                                     slug="zonnebloem"),
                          code="ZB5", name="Zonnebloem 5")


def page_url(publisher):
    return reverse("results:publisher_grade_boundaries", kwargs={"slug": publisher.slug})


def form(product, test_type="methodetoets", bands=SEED):
    data = {"product": product.pk, "test_type": test_type}
    for number, band in enumerate(bands, start=1):
        data.update({f"term_{number}": band["term"],
                     f"from_{number}": str(band["grade_from"]).replace(".", ","),
                     f"to_{number}": str(band["grade_to"]).replace(".", ",")})
    return data


def test_an_admin_sets_the_seeds_boundaries_and_sees_them_listed(product):
    client = signed_in(product.publisher)

    response = client.post(page_url(product.publisher), form(product), follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "zijn opgeslagen" in text
    assert "onvoldoende: 1 t/m 5,4" in text and "goed: 7,5 t/m 10" in text
    assert GradeBoundary.objects.get().bands[1] == {"term": "voldoende", "grade_from": 5.5,
                                                    "grade_to": 7.4}
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_GRADE_BOUNDARIES).count() == 1


def test_the_page_is_a_tab_of_the_portal(product):
    response = signed_in(product.publisher).get(reverse(
        "publisher:products", kwargs={"slug": product.publisher.slug}))

    assert page_url(product.publisher) in response.content.decode()
    assert "Cijfergrenzen" in response.content.decode()


def test_a_gap_is_shown_in_dutch_at_the_band_and_nothing_is_stored(product):
    bands = [SEED[0], {**SEED[1], "grade_from": 5.6}, SEED[2]]

    response = signed_in(product.publisher).post(page_url(product.publisher),
                                                 form(product, bands=bands))

    assert response.status_code == 400
    assert response.context["form"].errors["from_2"] == [
        "Deze grens moet bij 5,5 beginnen: de grenzen lopen op volgorde van 1 tot en met 10, "
        "zonder gaten of overlap."]
    assert "Er is iets niet goed" in response.content.decode()  # the error summary
    assert not GradeBoundary.objects.exists()


def test_observations_get_no_boundaries(product):
    response = signed_in(product.publisher).post(page_url(product.publisher),
                                                 form(product, test_type="observatie"))

    assert response.status_code == 400
    assert response.context["form"].errors["test_type"] == [
        "Observaties hebben geen cijfergrenzen."]


def test_the_change_link_fills_the_form(product):
    set_grade_boundaries(product.publisher, product, "methodetoets", SEED, actor=None)

    response = signed_in(product.publisher).get(page_url(product.publisher),
                                                {"product": product.pk,
                                                 "test_type": "methodetoets"})

    initial = response.context["form"].initial
    assert (initial["term_2"], initial["from_2"], initial["to_2"]) == ("voldoende", "5,5", "7,4")


def test_the_helpdesk_reads_but_may_not_set(product):
    set_grade_boundaries(product.publisher, product, "methodetoets", SEED, actor=None)
    client = signed_in(product.publisher, PublisherMembership.Role.HELPDESK)

    page = client.get(page_url(product.publisher))
    assert page.status_code == 200 and "voldoende: 5,5 t/m 7,4" in page.content.decode()
    assert 'id="grade-form"' not in page.content.decode()
    answer = client.post(page_url(product.publisher), form(product, bands=[
        {"term": "alles", "grade_from": 1, "grade_to": 10}]))

    assert answer.status_code == 403
    assert GradeBoundary.objects.get().bands[0]["term"] == "onvoldoende"


def test_another_publishers_staff_get_404_and_cannot_use_this_product(product):
    other = PublisherFactory()
    stranger = signed_in(other)

    assert stranger.get(page_url(product.publisher)).status_code == 404
    assert stranger.post(page_url(product.publisher), form(product)).status_code == 404
    # On their own page, this publisher's product is not a choice.
    response = stranger.post(page_url(other), form(product))
    assert response.status_code == 400 and "product" in response.context["form"].errors
    assert not GradeBoundary.objects.exists()
