"""The nightly fetch of every school's roster from its LAS (issue 14 §6), on PostgreSQL.

Issue 14 §6: the nightly fetch of all 6,600 schools of the country benchmark from
`examples/las_app`, with 200 ms of simulated LAS latency per call, finishes, fetch and processing
together, in under 20 minutes on this machine.

    /usr/bin/time -v .venv/bin/python bench/las_night.py

Steps (only 4 is the benchmark):
1. generate the country's files with `klaspoort generate-edexml` (as bench/country.py; skipped
   when they are there), drop and create a throw-away database, migrate;
2. import every file (as bench/country.py's import, by --workers processes), VACUUM (ANALYZE);
3. start `python -m examples.las_app` serving the same schools and rosters (`--schools`,
   `--pupils`, `--seed` as the generator) with `--latency-ms` per call, and switch on an
   automatic coupling to it for every school (bulk inserts; keys sealed as a coordinator's are);
4. NIGHT: `klaspoort nightly --workers N --fetch-workers F`, as the operator's cron runs it:
   every coupling fetched over HTTP (HaalLeerlinggegevens), each answer received as an import,
   then every waiting import processed; timed whole, with the CPU of this machine's parts.
Checks afterwards that every coupling succeeded and every school got its import processed.

Results are printed and written to bench/out/las-night-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.country import (  # noqa: E402
    BIN,
    OUT,
    CpuMeter,
    _drop_database,
    _generate,
    _jsonable,
    _machine,
    _recreate_database,
    _run_files,
    _say,
    _vacuum_analyze,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_470_000)
    parser.add_argument("--schools", type=int, default=6600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="import/processing processes")
    parser.add_argument("--fetch-workers", type=int, default=16, help="couplings at a time")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--out", type=Path, default=OUT / "country")
    parser.add_argument("--server", default="postgres://postgres@localhost")
    parser.add_argument("--database", default="klaspoort_bench_las")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--results", type=Path, default=OUT / "las-night-results.json")
    args = parser.parse_args()
    if not args.database.startswith("klaspoort_bench"):
        parser.error("--database must start with klaspoort_bench: it is dropped and recreated")

    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": _machine(), "arguments": _jsonable(vars(args))}
    results["generate"] = _generate(args)
    files = sorted(args.out.glob("*.xml"), key=lambda p: p.stat().st_size, reverse=True)
    assert len(files) == args.schools, f"{len(files)} files in {args.out}, not {args.schools}"
    url = f"{args.server.rstrip('/')}/{args.database}"
    _recreate_database(args.server, args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
    os.environ["KLASPOORT_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _say(f"import: {len(files)} files, {args.workers} workers")
    results["import"] = _run_files(files, "command", args.workers, process=True)
    results["vacuum_analyze_seconds"] = _vacuum_analyze()

    las = _start_las(args)
    try:
        results["couplings"] = _couple_every_school(args)
        _say(f"couplings: {results['couplings']}")
        command = [str(BIN / "klaspoort"), "nightly", "--workers", str(args.workers),
                   "--fetch-workers", str(args.fetch_workers)]
        _say("night: " + " ".join(command))
        with CpuMeter() as meter:
            started = time.perf_counter()
            output = subprocess.run(command, check=True, capture_output=True,
                                    text=True).stdout
            seconds = time.perf_counter() - started
        results["night"] = {"seconds": round(seconds, 1), "command": " ".join(
            ["klaspoort", *command[1:]]), "output": output.strip(), "cpu_seconds": meter.result}
        _say(f"night: {results['night']}")
    finally:
        las.terminate()
        las.wait(timeout=30)
    results["check"] = _check(args.schools)
    _say(f"check: {results['check']}")

    from django.db import connections

    connections.close_all()
    if not args.keep:
        _drop_database(args.server, args.database)
    args.results.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


def _start_las(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "examples.las_app", "--port", str(args.port),
               "--schools", str(args.schools), "--pupils", str(args.pupils),
               "--seed", str(args.seed), "--latency-ms", str(args.latency_ms)]
    _say("LAS: " + " ".join(command[1:]))
    # The LAS says a line per fetch: kept in a file, not among the benchmark's own lines.
    log = (OUT / "las-app.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("localhost", args.port)) == 0:
                return process
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("the example LAS did not start")


def _couple_every_school(args: argparse.Namespace) -> dict[str, Any]:
    """An active coupling to the example LAS for every school, as if each coordinator had
    switched it on with the key the LAS gave it (keys sealed as the coordinator's page does)."""
    from django.utils import timezone

    from examples.las_app import school_key
    from examples.las_app.app import DEFAULT_KEY_SECRET
    from klaspoort.roster.models import LasSystem, RosterCoupling
    from klaspoort.roster.secrets import seal_text
    from klaspoort.schools.models import School

    started = time.perf_counter()
    las = LasSystem.objects.create(
        name="Voorbeeld-LAS", slug="voorbeeld-las", method=LasSystem.Method.PULL,
        endpoint=f"http://localhost:{args.port}/leerlinggegevens", needs_key=True,
        client_code="KLASPOORT-BENCH", client_name="Klaspoort (benchmark)")
    now = timezone.now()
    rows = []
    for school_id, brin, dependancecode in School.objects.values_list(
            "pk", "brin", "dependancecode"):
        key = school_key(DEFAULT_KEY_SECRET, brin + dependancecode)
        rows.append(RosterCoupling(school_id=school_id, las=las, sealed_key=seal_text(
            "las-key", key), key_last4=key[-4:], active=True, switched_at=now))
    RosterCoupling.objects.bulk_create(rows, batch_size=1000)
    return {"seconds": round(time.perf_counter() - started, 1), "couplings": len(rows)}


def _check(schools: int) -> str:
    from django.db.models import Count

    from klaspoort.roster.models import RosterCoupling, RosterImport

    results = dict(RosterCoupling.objects.values("last_result").annotate(n=Count("pk"))
                   .values_list("last_result", "n"))
    processed = RosterImport.objects.filter(source=RosterImport.Source.COUPLING,
                                            status=RosterImport.Status.PROCESSED).count()
    if results.get("ok") != schools or processed != schools:
        return f"couplings {results}, {processed} coupling imports processed of {schools}"
    return "ok"


if __name__ == "__main__":
    main()
