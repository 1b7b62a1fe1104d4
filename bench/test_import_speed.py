"""How long one school's roster file takes: parsed, validated, diffed and applied.

Issue 2 §5: a 1,000-pupil file in under 0.5 s into an empty school, the unchanged file again in
under 0.2 s, on SQLite and on PostgreSQL. Not part of the test suite (pyproject's testpaths is
tests/); run it once per database, see docs/benchmarks.md for the commands:

    .venv/bin/pytest bench/test_import_speed.py -p no:xdist
    DATABASE_URL=postgres://postgres@localhost/klaspoort .venv/bin/pytest \
        bench/test_import_speed.py -p no:xdist

Each timed round is what a coordinator's upload plus the nightly run cost for that school:
services.receive_roster_file (parse, validate, store the validated roster) followed by
services.process_import (diff and apply in one transaction). The database is a real one that
commits (transactional_db), so every round pays for its commit as production does.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from bench.country import change_roster
from klaspoort.audit.services import OPERATOR
from klaspoort.roster import selectors, services
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Pupil, RosterImport
from klaspoort.schools.models import School

PUPILS = 1000
ROUNDS_FIRST = 30
ROUNDS_AGAIN = 30

# Distinct BRIN codes for the "empty school" rounds: each round imports into a new school.
_brins = (f"{n:02d}{a}{b}" for a, b in itertools.product("XY", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
          for n in range(100))


@pytest.fixture
def database(benchmark: Any) -> Iterator[str]:
    vendor = connection.vendor
    benchmark.group = f"{PUPILS} pupils, {vendor}"
    benchmark.extra_info["database"] = vendor
    benchmark.extra_info["pupils"] = PUPILS
    # The machine may be shared: a figure measured while other work ran says so.
    benchmark.extra_info["load_average_1min_start"] = os.getloadavg()[0]
    yield vendor
    benchmark.extra_info["load_average_1min_end"] = os.getloadavg()[0]


def _import(data: bytes, school: School) -> RosterImport:
    record = services.receive_roster_file(data, source=RosterImport.Source.UPLOAD, school=school)
    if record.status == RosterImport.Status.HELD:
        # A night that deactivates many (the 100% round): the coordinator's Toch verwerken is
        # part of what that file costs.
        record = services.confirm_held_import(actor=OPERATOR, record=record)
    assert record.status == RosterImport.Status.WAITING, record.errors
    return services.process_import(record.pk)


@pytest.mark.django_db(transaction=True)
def test_first_import_into_an_empty_school(benchmark: Any, database: str) -> None:
    def setup() -> tuple[tuple[bytes, School], dict[str, Any]]:
        brin = next(_brins)
        school = School.objects.create(brin=brin, dependancecode="00", name=f"School {brin}")
        return (generate_school(brin, "00", PUPILS, seed=1), school), {}

    record = benchmark.pedantic(_import, setup=setup, rounds=ROUNDS_FIRST, iterations=1,
                                warmup_rounds=1)
    assert record.status == RosterImport.Status.PROCESSED
    assert record.counts["pupils"]["added"] == PUPILS
    assert Pupil.objects.filter(school=record.school, active=True).count() == PUPILS


@pytest.mark.django_db(transaction=True)
def test_the_unchanged_file_again(benchmark: Any, database: str) -> None:
    school = School.objects.create(brin="99ZZ", dependancecode="00", name="De Regenboog")
    data = generate_school("99ZZ", "00", PUPILS, seed=1)
    assert _import(data, school).counts["pupils"]["added"] == PUPILS

    record = benchmark.pedantic(_import, args=(data, school), rounds=ROUNDS_AGAIN, iterations=1,
                                warmup_rounds=1)
    assert record.status == RosterImport.Status.PROCESSED
    assert record.counts == {part: {"added": 0, "changed": 0, "deactivated": 0}
                             for part in ("groups", "pupils", "teachers")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("share", [0.05, 1.0], ids=["5% changed", "100% changed"])
def test_a_night_with_changes(benchmark: Any, database: str, share: float) -> None:
    """Not targets of their own. 5% is the per-school part of the nightly run's target; 100%
    draws every pupil (85% move, get another name or leave, 15% bring a newcomer along): the
    worst night, like the first one of a school year."""
    made: dict[str, int] = {}

    def setup() -> tuple[tuple[bytes, School], dict[str, Any]]:
        # Every round a school as its original file left it; a new one rather than the same
        # one deleted, so no round pays for the dead rows of the one before.
        brin = next(_brins)
        school = School.objects.create(brin=brin, dependancecode="00", name=f"School {brin}")
        original = generate_school(brin, "00", PUPILS, seed=1)
        _import(original, school)
        changed, counts = change_roster(original, share, "bench")
        made.update(counts)
        return (changed, school), {}

    record = benchmark.pedantic(_import, setup=setup, rounds=ROUNDS_FIRST, iterations=1,
                                warmup_rounds=1)
    assert record.counts["pupils"] == {"added": made["new"], "deactivated": made["left"],
                                       "changed": made["moved"] + made["renamed"]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("share", [0.0, 0.05], ids=["unchanged", "5% changed"])
def test_the_preview_of_a_file(benchmark: Any, database: str, share: float) -> None:
    """Issue 9 §7: what a waiting 1,000-pupil file will change, as its page in Beheer (and
    `import-edexml --dry-run`) works it out against today's roster: < 0.3 s."""
    school = School.objects.create(brin="97ZZ", dependancecode="00", name="De Linde")
    original = generate_school("97ZZ", "00", PUPILS, seed=1)
    _import(original, school)
    data = change_roster(original, share, "bench")[0] if share else original
    record = services.receive_roster_file(data, source=RosterImport.Source.UPLOAD, school=school)

    preview = benchmark.pedantic(selectors.import_preview, args=(record,), rounds=ROUNDS_AGAIN,
                                 iterations=1, warmup_rounds=1)
    assert preview is not None
    changed = sum(len(entries) for entries in preview["changes"]["pupils"].values())
    assert (changed > 0) is (share > 0)


@pytest.mark.django_db(transaction=True)
def test_the_preview_of_a_first_file(benchmark: Any, database: str) -> None:
    """The same for a school's first file: every group, pupil and teacher is new."""
    school = School.objects.create(brin="96ZZ", dependancecode="00", name="De Eik")
    record = services.receive_roster_file(generate_school("96ZZ", "00", PUPILS, seed=1),
                                          source=RosterImport.Source.UPLOAD, school=school)
    preview = benchmark.pedantic(selectors.import_preview, args=(record,), rounds=ROUNDS_AGAIN,
                                 iterations=1, warmup_rounds=1)
    assert preview is not None and preview["counts"]["pupils"]["added"] == PUPILS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["parse", "receive", "process"])
def test_where_the_unchanged_import_spends_its_time(benchmark: Any, database: str,
                                                    step: str) -> None:
    """The parts of the unchanged re-import, to see which one to make faster."""
    school = School.objects.create(brin="98ZZ", dependancecode="00", name="De Wilgen")
    data = generate_school("98ZZ", "00", PUPILS, seed=1)
    assert _import(data, school).counts["pupils"]["added"] == PUPILS

    def received() -> tuple[tuple[int], dict[str, Any]]:
        record = services.receive_roster_file(data, source=RosterImport.Source.UPLOAD,
                                              school=school)
        return (record.pk,), {}

    target: Callable[..., Any]
    if step == "parse":
        target, kwargs = parse_edexml, {"args": (data,)}
    elif step == "receive":
        target, kwargs = _receive_only(school), {"args": (data,)}
    else:
        target, kwargs = services.process_import, {"setup": received}
    benchmark.pedantic(target, rounds=ROUNDS_AGAIN, iterations=1, warmup_rounds=1, **kwargs)


def _receive_only(school: School) -> Callable[[bytes], RosterImport]:
    def receive(data: bytes) -> RosterImport:
        return services.receive_roster_file(data, source=RosterImport.Source.UPLOAD,
                                            school=school)
    return receive
