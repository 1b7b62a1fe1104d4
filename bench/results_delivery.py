"""Results to the schools' LAS (issue 15): how many results a second the delivery brings to the
example LAS over UWLR Leerresultaten, on PostgreSQL, and that none is lost or held twice.

Target: at least 2,000 results a second on this machine.

    .venv/bin/python bench/results_delivery.py                 # 20,000 results, 20 schools
    .venv/bin/python bench/results_delivery.py --week          # 1,000,000: a national week
    .venv/bin/python bench/results_delivery.py --results 2000 --schools 4   # a quick look

Steps (only 4 is timed as the benchmark):
1. drop and create a throw-away database, migrate;
2. start `python -m examples.las_app --schools S` in its own process (the keys it derives for
   each school are the ones Klaspoort is given);
3. schools, pupils, one product, a results coupling per school to the LAS (keys sealed as the
   coordinator's page seals them), N results spread over the schools and their outbox rows
   (bulk inserts, timed apart as "queue");
4. DELIVERY: results.delivery.deliver for every coupling, --threads couplings at a time (as
   that many Celery workers would), batches of RESULTS_BATCH_SIZE;
5. check at the LAS: it holds exactly N results (the SHA-256 of their keys is that of the
   results' uids), no repeats, no faults; in Klaspoort no row waiting or failed.

Printed and written to bench/out/results-delivery.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.country import (  # noqa: E402
    OUT,
    CpuMeter,
    _drop_database,
    _jsonable,
    _machine,
    _recreate_database,
    _say,
)

WEEK_RESULTS = 1_000_000
WEEK_SCHOOLS = 6600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--week", action="store_true",
                        help=f"{WEEK_RESULTS:,} results over {WEEK_SCHOOLS:,} schools: a "
                             "national week")
    parser.add_argument("--pupils-per-school", type=int, default=25)
    parser.add_argument("--threads", type=int, default=4, help="couplings delivered at a time")
    parser.add_argument("--batch", type=int, default=500, help="results per UWLR message")
    parser.add_argument("--port", type=int, default=8772)
    parser.add_argument("--server", default="postgres://postgres@localhost")
    parser.add_argument("--database", default="klaspoort_bench_results")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", type=Path, default=OUT / "results-delivery.json")
    args = parser.parse_args()
    if args.week:
        args.results, args.schools = WEEK_RESULTS, WEEK_SCHOOLS
    if not args.database.startswith("klaspoort_bench"):
        parser.error("--database must start with klaspoort_bench: it is dropped and recreated")

    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": _machine(), "arguments": _jsonable(vars(args))}
    _recreate_database(args.server, args.database)
    os.environ["DATABASE_URL"] = f"{args.server.rstrip('/')}/{args.database}"
    os.environ["KLASPOORT_RESULTS_BATCH"] = str(args.batch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
    os.environ["KLASPOORT_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    las = _start_las(args)
    try:
        report["queue"], uids = _queue(args)
        _say(f"queue: {report['queue']}")
        report["delivery"] = _deliver(args)
        _say(f"delivery: {report['delivery']}")
        report["check"] = _check(args, uids)
        _say(f"check: {report['check']}")
    finally:
        las.terminate()
        las.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _drop_database(args.server, args.database)
    OUT.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _start_las(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "examples.las_app", "--host", "127.0.0.1", "--port",
               str(args.port), "--schools", str(args.schools), "--pupils-per-school", "1"]
    _say("LAS: " + " ".join(command[1:]))
    OUT.mkdir(parents=True, exist_ok=True)
    log = (OUT / "results-las.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", args.port)) == 0:
                return process
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the example LAS did not start")


def _queue(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """Schools, pupils, couplings, and N results with their outbox rows, in bulk."""
    from django.utils import timezone

    from examples.las_app import school_key
    from examples.las_app.app import DEFAULT_KEY_SECRET
    from klaspoort.accounts.models import User
    from klaspoort.licences.models import Product
    from klaspoort.results.delivery import KEY_PURPOSE
    from klaspoort.results.models import Delivery, Result, ResultCoupling
    from klaspoort.roster.generator import school_brins
    from klaspoort.roster.models import LasSystem, Pupil
    from klaspoort.roster.secrets import seal_text
    from klaspoort.schools.models import Publisher, School

    started = time.perf_counter()
    schools = School.objects.bulk_create(
        [School(brin=brin, dependancecode=dep, name=f"School {brin}{dep}")
         for brin, dep in school_brins(args.schools)], batch_size=1000)
    per = args.pupils_per_school
    users = User.objects.bulk_create(
        [User(email=None, kind=User.Kind.PUPIL, password="!")  # noqa: S106 - unusable
         for _n in range(len(schools) * per)], batch_size=5000)
    pupils = Pupil.objects.bulk_create(
        [Pupil(school=school, user=users[i * per + n], key=f"L{n}", first_name="Sam",
               last_name=f"Jansen{n}", jaargroep="5")
         for i, school in enumerate(schools) for n in range(per)], batch_size=5000)
    publisher = Publisher.objects.create(name="Uitgeverij Bench", slug="uitgeverij-bench")
    product = Product.objects.create(publisher=publisher, code="REK", name="Rekenen",
                                     product_type="toetsen")
    las = LasSystem.objects.create(
        name="Voorbeeld-LAS", slug="voorbeeld-las", method=LasSystem.Method.PULL,
        results_endpoint=f"http://127.0.0.1:{args.port}/leerresultaten", needs_key=True,
        client_code="KLASPOORT-BENCH", client_name="Klaspoort (benchmark)", timeout_seconds=60)
    since = timezone.now() - timedelta(days=1)
    couplings = ResultCoupling.objects.bulk_create(
        [ResultCoupling(school=school, las=las, since=since,
                        sealed_key=seal_text(KEY_PURPOSE, school_key(DEFAULT_KEY_SECRET,
                                                                      school.brin6)))
         for school in schools], batch_size=1000)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    uids: list[str] = []
    chunk = 20_000
    now = timezone.now()
    for first in range(0, args.results, chunk):
        results = Result.objects.bulk_create(
            [Result(school_id=pupils[n % len(pupils)].school_id, pupil=pupils[n % len(pupils)],
                    publisher=publisher, product=product, external_id=f"B{n}",
                    kind=Result.Kind.TEST, test_code=f"REK-{n % 12}", test_name="Rekenen",
                    test_type="methodetoets", score=n % 41, max_score=40,
                    taken_on=date(2026, 11, 12))
             for n in range(first, min(first + chunk, args.results))], batch_size=5000)
        by_school = {c.school_id: c for c in couplings}
        Delivery.objects.bulk_create(
            [Delivery(coupling=by_school[r.school_id], result=r, result_version=1,
                      next_attempt_at=now) for r in results], batch_size=5000)
        uids.extend(str(r.uid) for r in results)
    queue = time.perf_counter() - started
    return {"setup_seconds": round(setup, 1), "queue_seconds": round(queue, 1),
            "results": args.results, "schools": len(schools), "pupils": len(pupils)}, uids


def _deliver(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connections

    from klaspoort.results import delivery

    ids = delivery.due_coupling_ids()
    lanes = [ids[i::args.threads] for i in range(args.threads)]
    totals: list[dict[str, int]] = []

    def lane(part: list[int]) -> None:
        try:
            totals.append(delivery.deliver_due(part))
        finally:
            connections.close_all()

    with CpuMeter() as meter:
        started = time.perf_counter()
        threads = [threading.Thread(target=lane, args=(part,)) for part in lanes if part]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    sent = sum(t["sent"] for t in totals)
    return {"seconds": round(seconds, 2), "sent": sent,
            "results_per_second": round(sent / seconds) if seconds else None,
            "couplings": len(ids), "threads": args.threads, "batch": args.batch,
            "cpu_seconds": meter.result}


def _check(args: argparse.Namespace, uids: list[str]) -> dict[str, Any]:
    from django.db.models import Count

    from examples.las_app.results import keys_digest
    from klaspoort.results.models import Delivery

    with urllib.request.urlopen(
            f"http://127.0.0.1:{args.port}/resultaten.json?digest=1", timeout=120) as answer:
        counts = json.loads(answer.read())
    rows = dict(Delivery.objects.values("state").annotate(n=Count("pk"))
                .values_list("state", "n"))
    problems = []
    if counts["results"] != args.results:
        problems.append(f"the LAS holds {counts['results']} results, not {args.results}")
    if counts["keys_sha256"] != keys_digest(uids):
        problems.append("the LAS holds other keys than the results' uids")
    if counts["repeats"] or counts["faults"]:
        problems.append(f"{counts['repeats']} repeats, {counts['faults']} faults at the LAS")
    if rows.get("sent") != args.results:
        problems.append(f"outbox rows by state: {rows}")
    return {"ok": not problems, "problems": problems, "las": {
        k: counts[k] for k in ("messages", "received", "results", "repeats", "faults")},
        "rows": rows}


if __name__ == "__main__":
    main()
