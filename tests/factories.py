"""Factories for the domain; tests build exactly the rows they need."""

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
