"""Factories for the results app's tests: results of a pupil, and LAS that take results."""

from __future__ import annotations

import datetime

import factory

from klaspoort.results.models import Result
from klaspoort.roster.models import LasSystem
from tests.factories import PupilFactory
from tests.licences.factories import ProductFactory


class ResultsLasFactory(factory.django.DjangoModelFactory):
    """A LAS of the catalogue that takes results (UWLR Leerresultaten)."""

    class Meta:
        model = LasSystem
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"LAS {n}")
    slug = factory.Sequence(lambda n: f"las-{n}")
    method = LasSystem.Method.PULL
    endpoint = factory.LazyAttribute(lambda o: f"https://{o.slug}.example/leerlinggegevens")
    results_endpoint = factory.LazyAttribute(lambda o: f"https://{o.slug}.example/leerresultaten")
    needs_key = True
    client_code = "KP"
    client_name = "Klaspoort"


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Result

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    product = factory.SubFactory(ProductFactory)
    publisher = factory.SelfAttribute("product.publisher")
    external_id = factory.Sequence(lambda n: f"r-{n}")
    kind = Result.Kind.TEST
    test_code = factory.Sequence(lambda n: f"T{n}")
    test_name = "Toets blok 3"
    test_type = "methodetoets"
    score = 7
    max_score = 10
    taken_on = datetime.date(2026, 11, 20)
