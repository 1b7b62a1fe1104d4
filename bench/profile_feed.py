"""Where the feed's comparison of one school spends its time (issue 13 item 9, docs/benchmarks.md
section 5): what every import now adds for a school with a consenting publisher.

    DATABASE_URL=postgres://postgres@localhost/klaspoort_bench_profile \
        .venv/bin/python bench/profile_feed.py [ROUNDS]

The database is dropped and created again (its name must start with klaspoort_bench; an SQLite
DATABASE_URL is a file that is replaced). One school of 1,000 pupils (`generate_school(…,
1000, seed=1)`), one publisher with a per-group contract for year groups 1-8 linked to every
group, the school's consent. Then, ROUNDS times each (default 20), timed with the process's CPU
clock (waiting on PostgreSQL excluded) and the wall clock:

- `publish_school` when nothing changed (what an unchanged nightly file now adds);
- its parts: `views_of_school` (the rule), `access_for_school` (inside the rule), and reading
  what the publisher was told (`PublishedRecord` rows);

and once under cProfile, the functions with the most cumulative time of those rounds.
BENCH_LINES=N prints N lines of the profile (default 25). BENCH_WHAT=page profiles a feed page
of 1,000 events instead (GET /api/publisher/v1/changes?after=0&limit=1000 through Django's
test client).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
os.environ.setdefault("KLASPOORT_LOG_LEVEL", "WARNING")
# As production: a configured pseudonym key (BENCH_NO_KEY=1: a single machine's generated key
# file, looked up on every pseudonym).
if not os.environ.get("BENCH_NO_KEY"):
    os.environ.setdefault("KLASPOORT_PSEUDONYM_KEY", "bench-feed-pseudonym-key-" + "k" * 32)


def _fresh_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        server, name = url.rsplit("/", 1)
        if not name.startswith("klaspoort_bench"):
            raise SystemExit("the database name must start with klaspoort_bench: it is dropped")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(__file__).resolve().parent / "out" / "profile-feed.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"


def _timed(name: str, call: Callable[[], Any], rounds: int) -> None:
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(rounds):
        started_cpu, started = time.process_time(), time.perf_counter()
        call()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    print(f"{name:<48} CPU median {statistics.median(cpu) * 1000:7.1f} ms   "
          f"wall median {statistics.median(wall) * 1000:7.1f} ms   "
          f"(min {min(wall) * 1000:.1f}, {rounds} rounds)")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    _fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.test_feed_speed import _import, _license, _publisher
    from klaspoort.exchange import feed
    from klaspoort.exchange.models import PublishedRecord
    from klaspoort.licences.access import access_for_school
    from klaspoort.licences.publisher_view import views_of_school
    from klaspoort.roster.generator import generate_school
    from klaspoort.schools.models import School

    call_command("migrate", verbosity=0)
    school = School.objects.create(brin="94ZZ", dependancecode="00", name="De Profielschool")
    _import(generate_school("94ZZ", "00", 1000, seed=1), school)
    publisher, product, token = _publisher("bench-profile")
    _license(school, publisher, product)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    told = PublishedRecord.objects.filter(publisher=publisher).count()
    print(f"{connection.vendor}: one school, {told} records told to the publisher; "
          f"load average {os.getloadavg()[0]:.2f}")

    with CaptureQueriesContext(connection) as queries:
        assert feed.publish_school(school) == 0
    print(f"publish_school, nothing changed: {len(queries)} queries")

    if os.environ.get("BENCH_WHAT") == "page":
        _profile_page(token, rounds)
        return
    from klaspoort.roster.models import Pupil

    # A night's import touches about 5% of a school's pupils (decision 0035): the part compared.
    touched = feed.Touched(frozenset(), frozenset(Pupil.objects.filter(school=school).order_by(
        "pk").values_list("user_id", flat=True)[:50]))
    with CaptureQueriesContext(connection) as queries:
        assert feed.publish_school(school, touched=touched) == 0
    print(f"publish_school, 50 people touched: {len(queries)} queries")
    _timed("publish_school, 50 people touched", lambda: feed.publish_school(
        school, touched=touched), rounds)
    if os.environ.get("BENCH_WHAT") == "partial":
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(rounds):
            feed.publish_school(school, touched=touched)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(
            int(os.environ.get("BENCH_LINES", "25")))
        return
    _timed("publish_school, nothing changed", lambda: feed.publish_school(school), rounds)
    _timed("  views_of_school (the rule)", lambda: views_of_school(school, [publisher.pk]),
           rounds)
    _timed("    access_for_school", lambda: access_for_school(school), rounds)
    _timed("  PublishedRecord rows of the school", lambda: list(
        PublishedRecord.objects.filter(publisher=publisher, school=school)), rounds)

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        feed.publish_school(school)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(int(os.environ.get("BENCH_LINES", "25")))
    stats.sort_stats("tottime").print_stats(int(os.environ.get("BENCH_LINES", "25")))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def _profile_page(token: str, rounds: int) -> None:
    from django.conf import settings
    from django.test import Client

    from klaspoort.exchange import selectors
    from klaspoort.exchange.models import FeedEvent

    settings.PUBLISHER_API_RATE_PER_MINUTE = 10**9
    client = Client(HTTP_HOST="localhost")

    def page() -> Any:
        response = client.get("/api/publisher/v1/changes", {"after": "0", "limit": "1000"},
                              HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        return response

    publisher_id = FeedEvent.objects.values_list("publisher_id", flat=True).first()
    assert publisher_id is not None
    _timed("feed page of 1,000 events (the request)", page, rounds)
    _timed("  events_after (query + event_json)",
           lambda: selectors.events_after(publisher_id, 0, 1000), rounds)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        page()
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(int(os.environ.get("BENCH_LINES", "25")))


if __name__ == "__main__":
    main()
