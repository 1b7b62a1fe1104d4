"""Factories for the domain; tests build exactly the rows they need."""

import datetime

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from klaspoort.accounts.models import User
from klaspoort.results.models import (
    Delivery,
    GradeBoundary,
    LearningGoalScore,
    Result,
    ResultCoupling,
)
from klaspoort.roster.models import Group, LasSystem, Pupil, Teacher
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


# --- Results (issue 15). Generic on purpose: every results test builds on these. -------------

class LasSystemFactory(factory.django.DjangoModelFactory):
    """A LAS of the operators' catalogue that takes results (tests and observations)."""

    class Meta:
        model = LasSystem
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"LAS {n}")
    slug = factory.Sequence(lambda n: f"las-{n}")
    method = LasSystem.Method.PULL
    endpoint = "https://las.example/leerlinggegevens"
    client_code = "KLASPOORT-01"
    client_name = "Klaspoort"
    timeout_seconds = 5
    results_endpoint = "https://las.example/leerresultaten"


class ResultFactory(factory.django.DjangoModelFactory):
    """A test result of a pupil (of a new school when not given) in a product."""

    class Meta:
        model = Result

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    # A string path: tests.licences.factories imports this module.
    product = factory.SubFactory("tests.licences.factories.ProductFactory")
    publisher = factory.SelfAttribute("product.publisher")
    external_id = factory.Sequence(lambda n: f"R{n}")
    kind = Result.Kind.TEST
    test_code = factory.Sequence(lambda n: f"T-{n}")
    test_name = "Toets blok 1"
    test_type = "methodetoets"
    score = 7
    max_score = 10
    taken_on = factory.LazyFunction(lambda: datetime.date(2027, 3, 15))


class GradeBoundaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GradeBoundary

    product = factory.SubFactory("tests.licences.factories.ProductFactory")
    publisher = factory.SelfAttribute("product.publisher")
    test_type = "methodetoets"
    bands = factory.LazyFunction(lambda: [
        {"term": "onvoldoende", "grade_from": 1.0, "grade_to": 5.4},
        {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.4},
        {"term": "goed", "grade_from": 7.5, "grade_to": 10.0}])


class ResultCouplingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResultCoupling

    school = factory.SubFactory(SchoolFactory)
    las = factory.SubFactory(LasSystemFactory)
    key_last4 = "1234"
    since = factory.LazyFunction(timezone.now)


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A waiting delivery of a result to a coupling of the result's school."""

    class Meta:
        model = Delivery

    result = factory.SubFactory(ResultFactory)
    coupling = factory.SubFactory(ResultCouplingFactory,
                                  school=factory.SelfAttribute("..result.school"))
    result_version = factory.SelfAttribute("result.version")
    next_attempt_at = factory.LazyFunction(timezone.now)


class LearningGoalScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningGoalScore

    pupil = factory.SubFactory(PupilFactory)
    school = factory.SelfAttribute("pupil.school")
    product = factory.SubFactory("tests.licences.factories.ProductFactory")
    learning_goal_code = "LD-1"
    score = 5
    taken_on = factory.LazyFunction(lambda: datetime.date(2027, 3, 15))
    school_year = "2026-2027"
