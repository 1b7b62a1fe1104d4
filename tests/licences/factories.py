"""Factories for licences (publishers, products, contracts, publisher staff).

Shared by several test modules: append new factories at the end only."""

import datetime

import factory
from django.utils import timezone
from django.utils.text import slugify

from klaspoort.licences.models import Contract, Product, PublisherMembership
from klaspoort.schools.models import Publisher
from tests.factories import SchoolFactory, UserFactory


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publisher
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Uitgeverij {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    publisher = factory.SubFactory(PublisherFactory)
    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Pluspunt {n}")
    product_type = Product.Type.PRACTICE
    year_groups = factory.LazyFunction(lambda: [5])


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    product = factory.SubFactory(ProductFactory)
    publisher = factory.LazyAttribute(lambda o: o.product.publisher)
    school = factory.SubFactory(SchoolFactory)
    number = factory.Sequence(lambda n: f"C{n:05d}")
    title = factory.LazyAttribute(lambda o: o.product.name)
    start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    end = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=300))
    contract_type = Contract.Type.GROUP
    seats = None


class PublisherMemberFactory(factory.django.DjangoModelFactory):
    """A PublisherMembership; its `user` signs in with tests.factories.PASSWORD."""

    class Meta:
        model = PublisherMembership

    user = factory.SubFactory(UserFactory)
    publisher = factory.SubFactory(PublisherFactory)
    role = PublisherMembership.Role.ADMIN


class ChildLicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "licences.ChildLicence"

    contract = factory.SubFactory(ContractFactory, contract_type=Contract.Type.CHILD, seats=10)
    pupil = factory.SubFactory("tests.factories.PupilFactory",
                               school=factory.SelfAttribute("..contract.school"))
