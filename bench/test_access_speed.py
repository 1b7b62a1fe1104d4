"""How long the licence rule takes: "which products may this user open now, and why not".

Issue 4: for a school of 1,000 pupils with 40 contracts, the answer for one user in under 2 ms
and for every user of the school in under 1 s. Not part of the test suite; run once per
database (commands in docs/benchmarks.md):

    .venv/bin/pytest bench/test_access_speed.py -p no:xdist
    DATABASE_URL=postgres://… .venv/bin/pytest bench/test_access_speed.py -p no:xdist

The school is imported from a generated EDEXML file (1,000 pupils, about 40 groups, clusters,
combination groups); 40 contracts from 4 publishers, 30 per group for year groups and 10 per
child with seats, linked automatically and by hand as a coordinator would; every publisher
consented.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from klaspoort.licences import services
from klaspoort.licences.access import access_for_school, access_for_user
from klaspoort.licences.models import ChildLicence, Contract, Product
from klaspoort.roster import services as roster
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Pupil, RosterImport, Teacher
from klaspoort.schools.models import Publisher, PublisherConsent, School

PUPILS = 1000
CONTRACTS = 40
TODAY = timezone.localdate()


@pytest.fixture(scope="module")
def school(django_db_setup: Any, django_db_blocker: Any) -> Iterator[School]:
    with django_db_blocker.unblock():
        school = School.objects.create(brin="77AC", dependancecode="00", name="Bench")
        record = roster.receive_roster_file(generate_school("77AC", "00", PUPILS, seed=4),
                                            source=RosterImport.Source.UPLOAD, school=school)
        roster.process_import(record.pk)
        rng = random.Random(4)
        publishers = [Publisher.objects.get_or_create(slug=f"bench-{n}", defaults={
            "name": f"Bench uitgeverij {n}"})[0] for n in range(4)]
        for publisher in publishers:
            PublisherConsent.objects.create(school=school, publisher=publisher,
                                            given_at=timezone.now())
        pupils = list(Pupil.objects.filter(school=school, active=True).values_list("pk",
                                                                                 flat=True))
        for n in range(CONTRACTS):
            per_child = n >= 30
            product = Product.objects.create(
                publisher=publishers[n % 4], code=f"B{n}", name=f"Methode {n}",
                year_groups=[] if per_child else sorted(rng.sample(range(1, 9), 2)))
            contract = Contract.objects.create(
                publisher=product.publisher, school=school, number=f"BN{n:03d}",
                title=product.name, product=product,
                start=TODAY - datetime.timedelta(days=rng.randint(0, 400)),
                end=TODAY + datetime.timedelta(days=rng.randint(-30, 400)),
                contract_type=Contract.Type.CHILD if per_child else Contract.Type.GROUP,
                seats=60 if per_child else None)
            if per_child:
                ChildLicence.objects.bulk_create(ChildLicence(contract=contract, pupil_id=pk)
                                                 for pk in rng.sample(pupils, 50))
        services.auto_link(school, today=TODAY)
        if connection.vendor == "postgresql":
            # This machine's server runs without autovacuum (docs/benchmarks.md); production's
            # would have analysed the new tables by now, so the planner gets the same numbers.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        yield school


def _extra(benchmark: Any, what: str) -> None:
    benchmark.group = f"access, {PUPILS} pupils, {CONTRACTS} contracts, {connection.vendor}"
    benchmark.extra_info.update(database=connection.vendor, what=what,
                                load_average_1min=os.getloadavg()[0])


@pytest.mark.django_db
def test_one_pupil(benchmark: Any, school: School) -> None:
    _extra(benchmark, "one pupil")
    users = list(Pupil.objects.filter(school=school, active=True).values_list(
        "user_id", flat=True)[:200])
    from klaspoort.accounts.models import User
    people = list(User.objects.filter(pk__in=users))
    turn = iter(range(10**9))

    def one() -> Any:
        return access_for_user(people[next(turn) % len(people)], today=TODAY)

    with CaptureQueriesContext(connection) as queries:
        access = one()
    benchmark.extra_info["queries"] = len(queries)
    assert access is not None and access.products
    benchmark.pedantic(one, rounds=2000, warmup_rounds=50)


@pytest.mark.django_db
def test_one_teacher(benchmark: Any, school: School) -> None:
    _extra(benchmark, "one teacher")
    teacher = Teacher.objects.filter(school=school, active=True, groups__isnull=False).first()
    assert teacher is not None
    benchmark.pedantic(lambda: access_for_user(teacher.user, today=TODAY),
                       rounds=2000, warmup_rounds=50)


@pytest.mark.django_db
def test_whole_school(benchmark: Any, school: School) -> None:
    _extra(benchmark, "every pupil and teacher")
    result = benchmark.pedantic(lambda: access_for_school(school, today=TODAY),
                                rounds=30, warmup_rounds=2)
    assert len(result) >= PUPILS
