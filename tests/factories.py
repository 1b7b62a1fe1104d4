"""Factories for the domain; tests build exactly the rows they need."""

import datetime

import factory
from django.contrib.auth.hashers import make_password

from klaspoort.accounts.models import User
from klaspoort.roster.models import Group, Pupil, Teacher
from klaspoort.schools.models import School, SchoolMembership

PASSWORD = "Regenboog2025"
# Hashing with Argon2 for every factory user would slow the suite; one hash serves all.
_HASHED = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"gebruiker{n}@school.example")
    kind = User.Kind.STAFF
    password = _HASHED


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    brin = factory.Sequence(lambda n: f"{n % 100:02d}{chr(65 + (n // 100) % 26)}Z")
    dependancecode = "00"
    name = factory.Sequence(lambda n: f"Basisschool De Regenboog {n}")


class CoordinatorFactory(UserFactory):
    """A staff user who is ICT coordinator of `school=` (a new school when not given)."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def school(self, create, extracted, **kwargs):
        SchoolMembership.objects.create(user=self, school=extracted or SchoolFactory())


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    school = factory.SubFactory(SchoolFactory)
    key = factory.Sequence(lambda n: f"G{n}")
    name = factory.Sequence(lambda n: f"Groep {n % 8 + 1}")
    jaargroep = "5"


class PupilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pupil

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory, email=None, kind=User.Kind.PUPIL, password="!")
    key = factory.Sequence(lambda n: f"L{n}")
    first_name = "Zoë"
    last_name = factory.Sequence(lambda n: f"Jansen{n}")
    jaargroep = "5"


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory, email=None, password="!")
    key = factory.Sequence(lambda n: f"T{n}")
    first_name = "Marieke"
    last_name = factory.Sequence(lambda n: f"Visser{n}")


# --- results (issue 15) ------------------------------------------------------------------------
class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "schools.Publisher"

    name = factory.Sequence(lambda n: f"Uitgeverij {n}")
    slug = factory.Sequence(lambda n: f"uitgeverij-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "licences.Product"

    publisher = factory.SubFactory(PublisherFactory)
    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Rekenen {n}")
    product_type = "oefensoftware"


class LasSystemFactory(factory.django.DjangoModelFactory):
    """A LAS in the catalogue that takes results at `results_endpoint`."""

    class Meta:
        model = "roster.LasSystem"

    name = factory.Sequence(lambda n: f"LAS {n}")
    slug = factory.Sequence(lambda n: f"las-{n}")
    method = "pull"
    client_code = "KLASPOORT-01"
    client_name = "Klaspoort"
    timeout_seconds = 5
    results_endpoint = "http://localhost:9/leerresultaten"


class ResultFactory(factory.django.DjangoModelFactory):
    """A test result of `pupil=` (its school's) for a product of a new publisher."""

    class Meta:
        model = "results.Result"

    pupil = factory.SubFactory(PupilFactory)
    school = factory.LazyAttribute(lambda o: o.pupil.school)
    product = factory.SubFactory(ProductFactory)
    publisher = factory.LazyAttribute(lambda o: o.product.publisher)
    external_id = factory.Sequence(lambda n: f"R{n}")
    kind = "toets"
    test_code = "REK-M5-B1"
    test_name = "Rekenen blok 1"
    test_type = "methodetoets"
    score = 31
    max_score = 40
    taken_on = datetime.date(2026, 11, 12)
