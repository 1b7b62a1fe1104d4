"""What the publisher feed adds to a night's import, measured A/B on one database (issue 13
item 9, decision 0040): the same imports with the exchange app's roster receiver connected
(the feed writes down what each import touched) and disconnected (no feed at all), alternated
school by school so the machine's drift falls on both alike.

    DATABASE_URL=postgres://postgres@localhost/klaspoort_bench_ab \\
        .venv/bin/python bench/feed_import_ab.py [SCHOOLS] [PUPILS]

The database is dropped and created again (its name must start with klaspoort_bench; without
a PostgreSQL DATABASE_URL an SQLite file under bench/out is used). SCHOOLS schools (default
60) of PUPILS pupils (default 220, the country's average), each imported, then licensed to a
publisher it consents to (per-group contract linked to every group) and published. Then per
school, in both modes (the order alternates): the original file imported again, then a night's
file with 5% of the pupils changed (bench/country.py's change_roster), each timed with the
process's CPU clock and the wall clock. As at night, comparisons are held
(feed.hold_comparisons); after each school the pending comparison runs, outside the timing.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
os.environ.setdefault("KLASPOORT_LOG_LEVEL", "WARNING")
os.environ.setdefault("KLASPOORT_PSEUDONYM_KEY", "bench-feed-pseudonym-key-" + "k" * 32)

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    schools_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    pupils = int(sys.argv[2]) if len(sys.argv) > 2 else 220
    from bench.profile_feed import _fresh_database

    _fresh_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.country import change_roster
    from bench.test_feed_speed import _import, _license, _publisher
    from klaspoort.exchange import feed, receivers
    from klaspoort.exchange.models import FeedEvent
    from klaspoort.roster.generator import generate_school
    from klaspoort.roster.signals import roster_applied
    from klaspoort.schools.models import School

    call_command("migrate", verbosity=0)
    publisher, product, _token = _publisher("bench-ab")
    files: list[tuple[School, bytes, bytes]] = []
    for index in range(schools_wanted):
        brin = f"{index // 26 % 100:02d}{chr(65 + index % 26)}Z"
        data = generate_school(brin, "00", pupils, seed=index)
        school = School.objects.create(brin=brin, dependancecode="00", name=f"School {index}")
        _import(data, school)
        _license(school, publisher, product)
        night, _counts = change_roster(data, 0.05, f"ab-{index}")
        files.append((school, data, night))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    feed.hold_comparisons()

    def switch(on: bool) -> None:
        if on:
            roster_applied.connect(receivers.roster_applied,
                                   dispatch_uid="exchange.roster_applied")
        else:
            roster_applied.disconnect(dispatch_uid="exchange.roster_applied")

    def timed(school: School, data: bytes) -> tuple[float, float]:
        started_cpu, started = time.process_time(), time.perf_counter()
        _import(data, school)
        return time.process_time() - started_cpu, time.perf_counter() - started

    cpu: dict[str, list[float]] = {"with the feed": [], "without": []}
    wall: dict[str, list[float]] = {"with the feed": [], "without": []}
    events_before = FeedEvent.objects.count()
    for index, (school, data, night) in enumerate(files):
        order = [True, False] if index % 2 == 0 else [False, True]
        for on in order:
            switch(on)
            mode = "with the feed" if on else "without"
            for part in (data, night):
                spent_cpu, spent = timed(school, part)
                cpu[mode].append(spent_cpu)
                wall[mode].append(spent)
        switch(True)
        feed.publish_pending()
    result: dict[str, Any] = {
        "vendor": connection.vendor, "schools": schools_wanted, "pupils_per_school": pupils,
        "imports_per_mode": len(cpu["without"]),
        "events_told": FeedEvent.objects.count() - events_before,
        "load_average_1min": round(os.getloadavg()[0], 2)}
    for mode in cpu:
        result[mode] = {"cpu_ms_median": round(statistics.median(cpu[mode]) * 1000, 2),
                        "cpu_ms_mean": round(statistics.fmean(cpu[mode]) * 1000, 2),
                        "wall_ms_median": round(statistics.median(wall[mode]) * 1000, 2)}
    result["cpu_ratio_mean"] = round(result["with the feed"]["cpu_ms_mean"]
                                     / result["without"]["cpu_ms_mean"], 3)
    OUT.mkdir(exist_ok=True)
    (OUT / f"feed-import-ab-{connection.vendor}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
