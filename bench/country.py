"""The whole country on PostgreSQL: every school's roster imported, then one night of changes.

Issue 2 §5: 6,600 schools, 1.47 million pupils, ~110,000 teachers imported in under 15 minutes
on a 2-core machine, and a nightly run where 5% of the pupils changed in under 3 minutes.

    /usr/bin/time -v .venv/bin/python bench/country.py

Steps (only 3 and 5 are the benchmark; the others are timed and reported apart):
1. generate the files with `klaspoort generate-edexml` (skipped when they are already there);
2. drop and create a throw-away database (klaspoort_bench) and migrate it;
3. IMPORT: every file received and processed (services.receive_roster_file + process_import),
   by --workers processes, each with its own database connection; then VACUUM (ANALYZE), timed
   apart: what autovacuum would do in the background after such a load;
4. write a second set of files in which 5% of each school's pupils changed: moved to another
   group, a new first name, left the school, or new in the school;
5. NIGHTLY: every file received (as the automatic coupling delivers them), then
   `klaspoort nightly --workers N` processes all waiting imports; the counts the imports report
   are checked against the changes made in step 4.

With --feed (issue 13 item 9, the publisher feed), between 3 and 4:
a. one publisher that every school consents to, with a running per-group contract at every
   school linked to all its active groups (bulk inserts: no signal publishes anything yet), so
   it sees every group, pupil and teacher of the country;
b. FIRST PUBLISH: klaspoort.exchange.feed.publish_everything(), timed;
c. FEED READ: the whole feed read from cursor 0 in pages of --feed-page events over real HTTP
   (gunicorn, DEBUG off, as bench/pupil_flow.py serves) by a plain HTTP client (urllib),
   using only the documented API;
and the nightly run (5) then runs with that publisher consenting: every processed import also
writes down what it touched for the publisher (exchange.receivers -> feed.publish_after_commit),
compared after the last import (decision 0040; the imports' time and the comparisons' time
after them are reported apart);
d. after it, the next day's calendar comparison (the nightly publish_feeds task), timed.

A plain script, not a management command: it points DATABASE_URL at the throw-away database
before Django starts. Results are printed and written to bench/out/country-results.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_470_000)
    parser.add_argument("--schools", type=int, default=6600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--changed", type=float, default=0.05, help="share of pupils changed")
    parser.add_argument("--out", type=Path, default=OUT / "country")
    parser.add_argument("--server", default="postgres://postgres@localhost",
                        help="PostgreSQL server URL, without the database name")
    parser.add_argument("--database", default="klaspoort_bench", help="dropped and recreated")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--results", type=Path, default=OUT / "country-results.json",
                        help="where the results are written")
    parser.add_argument("--feed", action="store_true",
                        help="add a publisher every school consents to, publish and read its "
                             "feed over HTTP before the nightly run (issue 13)")
    parser.add_argument("--licences-only", action="store_true",
                        help="the same publisher, contracts and group links as --feed, but no "
                             "school consents: nothing is published (the night --feed is "
                             "compared with, decision 0040)")
    parser.add_argument("--feed-page", type=int, default=1000, help="events per feed page")
    parser.add_argument("--feed-port", type=int, default=8767)
    parser.add_argument("--feed-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--broker", default="",
                        help="with --feed: a Celery broker URL (e.g. redis://localhost:6379/9); "
                             "the nightly run then queues the feed's comparisons to a Celery "
                             "worker (as production does) instead of running them inline")
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="nice value of that worker (it yields the CPU to the import)")
    parser.add_argument("--feed-rate", type=int, default=1_000_000,
                        help="requests a minute per API token while reading the feed")
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
    # The script and the feed's HTTP server must sign cursors with the same key.
    os.environ.setdefault("KLASPOORT_PSEUDONYM_KEY", "bench-country-pseudonym-key-" + "k" * 32)
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    results["migrate_seconds"] = round(time.perf_counter() - started, 1)
    results["database"] = _database_facts()

    _say(f"import: {len(files)} files, {args.workers} workers")
    with CpuMeter() as meter:
        results["import"] = _run_files(files, "command", args.workers, process=True)
    results["import"]["cpu_seconds"] = meter.result
    results["import"]["rows"] = _row_counts()
    _report(results["import"], "import")
    results["vacuum_analyze_seconds"] = _vacuum_analyze()
    _say(f"vacuum analyze: {results['vacuum_analyze_seconds']} s")
    if args.licences_only:
        started = time.perf_counter()
        _publisher_id, _token, counts = _feed_publisher(consent=False)
        results["licences_only"] = {"seconds": round(time.perf_counter() - started, 1),
                                    **counts}
        _say(f"licences without consent set up: {results['licences_only']}")
    if args.feed:
        results["feed"] = _feed(args, url)

    changed_dir = args.out.with_name(args.out.name + "-nightly")
    started = time.perf_counter()
    expected = _write_changed_files(files, changed_dir, args.changed, args.seed, args.workers)
    results["nightly_files"] = {"seconds": round(time.perf_counter() - started, 1),
                                "changes": expected}
    _say(f"nightly files written: {expected}")

    changed = sorted(changed_dir.glob("*.xml"), key=lambda p: p.stat().st_size, reverse=True)
    with CpuMeter() as receive_meter:
        nightly = _run_files(changed, "coupling", args.workers, process=False)
    command = [str(BIN / "klaspoort"), "nightly", "--workers", str(args.workers)]
    _say("nightly: " + " ".join(command))
    worker = _start_worker(args) if args.feed and args.broker else None
    environment = ({**os.environ, "CELERY_BROKER_URL": args.broker,
                    "CELERY_TASK_ALWAYS_EAGER": "0"} if worker else None)
    started = time.perf_counter()
    with CpuMeter() as process_meter:
        output, imports_done = _run_nightly(command, environment)
    nightly["process_seconds"] = round(time.perf_counter() - started, 1)
    # The imports end with the command's "import(s) processed" line; after it the command
    # compares what the imports changed for the publishers (eager Celery; with a broker it
    # queues that to the worker).
    nightly["imports_seconds"] = round(imports_done - started, 1)
    nightly["feed_after_imports_seconds"] = round(nightly["process_seconds"]
                                                  - nightly["imports_seconds"], 1)
    _say(f"nightly: the imports took {nightly['imports_seconds']} s, the feed's comparisons "
         f"after them {nightly['feed_after_imports_seconds']} s")
    if worker is not None:
        nightly["feed_caught_up_seconds"] = _feed_caught_up(
            results["feed"]["events_in_feed"], started)
        worker.terminate()
        worker.wait(timeout=60)
        _say(f"nightly: the feed caught up {nightly['feed_caught_up_seconds']} s after the "
             "processing started")
    nightly["cpu_seconds"] = {"receive": receive_meter.result, "process": process_meter.result}
    nightly["process_command"] = " ".join(["klaspoort", *command[1:]])
    nightly["process_output"] = output.strip()
    nightly["receive_seconds"] = nightly.pop("seconds")
    nightly["seconds"] = round(nightly["receive_seconds"] + nightly["process_seconds"], 1)
    nightly["counts"] = _nightly_counts()
    nightly["rows"] = _row_counts()
    results["nightly"] = nightly
    if args.feed:
        from klaspoort.exchange.models import FeedEvent

        results["feed"]["nightly_events"] = FeedEvent.objects.count() - results["feed"][
            "events_in_feed"]
    _report(nightly, "nightly")
    if args.feed:
        results["feed"]["calendar_night"] = _calendar_night()
        _say(f"feed: the next night's calendar comparison: {results['feed']['calendar_night']}")
    # A run whose counts are wrong measured the wrong thing: it is written, then fails.
    results["check"] = _nightly_problem(nightly["counts"], expected) or "ok"
    if args.feed and results["check"] == "ok":
        # Each pupil the night changed is one event for the publisher that sees everyone.
        told = sum(expected.get(kind, 0) for kind in ("new", "moved", "renamed", "left"))
        if results["feed"]["nightly_events"] != told:
            results["check"] = (f"the nightly run wrote {results['feed']['nightly_events']} "
                                f"feed events for {told} changed pupils")

    results["database"]["size"] = _database_size()
    results["peak_rss_mb"] = {
        "script": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "largest_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }
    from django.db import connections

    connections.close_all()
    if not args.keep:
        _drop_database(args.server, args.database)
    target = args.results
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    _say(f"written to {target}")
    if results["check"] != "ok":
        raise SystemExit(results["check"])


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def _generate(args: argparse.Namespace) -> dict[str, Any]:
    stamp = args.out.with_suffix(".json")
    wanted = {"pupils": args.pupils, "schools": args.schools, "seed": args.seed}
    command = ["klaspoort", "generate-edexml", "--pupils", str(args.pupils), "--schools",
               str(args.schools), "--seed", str(args.seed), _shown(args.out)]
    if stamp.exists() and json.loads(stamp.read_text()).get("files") == wanted and len(
            list(args.out.glob("*.xml"))) == args.schools:
        return {**json.loads(stamp.read_text()), "reused": True}
    for old in args.out.glob("*.xml"):
        old.unlink()
    _say("generating: " + " ".join(command))
    started = time.perf_counter()
    subprocess.run([str(BIN / command[0]), *command[1:]], check=True, cwd=ROOT)
    facts = {"files": wanted, "command": " ".join(command),
             "seconds": round(time.perf_counter() - started, 1),
             "bytes": sum(p.stat().st_size for p in args.out.glob("*.xml"))}
    stamp.write_text(json.dumps(facts) + "\n")
    return {**facts, "reused": False}


def _write_changed_files(files: list[Path], target: Path, share: float, seed: int,
                         workers: int) -> dict[str, int]:
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.xml"):
        old.unlink()
    jobs = [(str(path), str(target / path.name), share, seed) for path in files]
    totals: Counter[str] = Counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for counts in pool.imap_unordered(_change_file, jobs, chunksize=20):
            totals.update(counts)
    return dict(sorted(totals.items()))


def _change_file(job: tuple[str, str, float, int]) -> dict[str, int]:
    source, target, share, seed = job
    data, counts = change_roster(Path(source).read_bytes(), share, f"{seed}-{Path(source).name}")
    Path(target).write_bytes(data)
    return counts


def change_roster(data: bytes, share: float, seed: str) -> tuple[bytes, dict[str, int]]:
    """Change `share` of a school's pupils the way a night's changes in a LAS look.

    Of the changed pupils 40% move to another group, 30% get another first name, 15% leave
    the school and 15% are new (a copy of a pupil with a new key and ECK iD).
    """
    from lxml import etree

    rng = random.Random(seed)
    root = etree.fromstring(data)
    groups = {g.get("key"): g.findtext("jaargroep") for g in root.find("groepen").iter("groep")}
    box = root.find("leerlingen")
    pupils = list(box)
    counts = Counter({"pupils_before": len(pupils)})
    chosen = rng.sample(pupils, max(1, round(len(pupils) * share)))
    for pupil in chosen:
        kind = rng.choices(["moved", "renamed", "left", "new"], [40, 30, 15, 15])[0]
        if kind == "moved" and len(groups) < 2:
            kind = "renamed"
        if kind == "moved":
            ref = pupil.find("groep")
            to = rng.choice([k for k in groups if k != ref.get("key")])
            ref.set("key", to)
            year = groups[to]
            pupil.find("jaargroep").text = rng.choice("12") if year == "C" else year
        elif kind == "renamed":
            call = pupil.find("roepnaam")
            call.text += rng.choice(["je", "tje", "y"])
        elif kind == "left":
            box.remove(pupil)
        else:
            newcomer = deepcopy(pupil)
            newcomer.set("key", f"N{rng.getrandbits(40):010x}")
            if "eckid" in newcomer.attrib:
                newcomer.set("eckid", "https://ketenid.nl/201703/" + "".join(
                    rng.choice("0123456789abcdef") for _ in range(128)))
            newcomer.find("roepnaam").text = "Nieuw"
            box.append(newcomer)
        counts[kind] += 1
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), dict(counts)


# ---------------------------------------------------------------------------------------------
# Running the imports
# ---------------------------------------------------------------------------------------------
def _run_files(files: list[Path], source: str, workers: int, *, process: bool
               ) -> dict[str, Any]:
    """Receive (and with `process` also apply) every file; return wall time and per-file times."""
    from django.db import connections

    # Children must not share the parent's socket to the database.
    connections.close_all()
    jobs = [(str(path), source, process) for path in files]
    started = time.perf_counter()
    times: list[float] = []
    statuses: Counter[str] = Counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n, (seconds, status) in enumerate(pool.imap_unordered(_one_file, jobs), start=1):
            times.append(seconds)
            statuses[str(status)] += 1
            if n % 500 == 0:
                _say(f"  {n}/{len(jobs)} files, {time.perf_counter() - started:.0f} s")
    wall = time.perf_counter() - started
    times.sort()
    return {
        "seconds": round(wall, 1),
        "files": len(files),
        "statuses": dict(statuses),
        "per_file_seconds": {
            "median": round(statistics.median(times), 4),
            "p95": round(times[int(len(times) * 0.95) - 1], 4),
            "max": round(times[-1], 4),
            "sum": round(sum(times), 1),
        },
    }


def _one_file(job: tuple[str, str, bool]) -> tuple[float, str]:
    from klaspoort.roster import services

    path, source, process = job
    data = Path(path).read_bytes()
    started = time.perf_counter()
    record = services.receive_roster_file(data, source=source, filename=Path(path).name)
    if process and record.status == "waiting":
        record = services.process_import(record.pk)
    return time.perf_counter() - started, str(record.status)


# ---------------------------------------------------------------------------------------------
# The publisher feed (issue 13 item 9)
# ---------------------------------------------------------------------------------------------
FEED_PATH = "/api/publisher/v1/changes"


def _feed(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """A publisher that sees the whole country: set up, first publish, then its feed read from
    cursor 0 over HTTP."""
    from klaspoort.exchange import feed
    from klaspoort.exchange.models import FeedEvent

    result: dict[str, Any] = {}
    started = time.perf_counter()
    publisher_id, token, counts = _feed_publisher()
    result["setup"] = {"seconds": round(time.perf_counter() - started, 1), **counts}
    _say(f"feed: publisher set up: {result['setup']}")

    _say("feed: first publish of the whole country: publish_everything()")
    with CpuMeter() as meter:
        started = time.perf_counter()
        written = feed.publish_everything()
        seconds = time.perf_counter() - started
    result["publish_everything"] = {
        "seconds": round(seconds, 1), "events": written,
        "events_per_second": round(written / seconds) if seconds else None,
        "cpu_seconds": meter.result}
    _say(f"feed: first publish: {result['publish_everything']}")
    result["analyze_seconds"] = _analyze(["exchange_feedevent", "exchange_publishedrecord",
                                          "exchange_feedstate"])
    result["events_in_feed"] = FeedEvent.objects.filter(publisher_id=publisher_id).count()
    result["read"] = _read_feed_over_http(args, url, token)
    _say(f"feed: read: {result['read']}")
    return result


def _calendar_night() -> dict[str, Any]:
    """The nightly `publish_feeds` task of the next day (Celery beat, 04:00): it compares only
    the schools where one of a publisher's contracts started or ended since the first
    publish, here none."""
    import datetime

    from django.utils import timezone

    from klaspoort.exchange import feed

    with CpuMeter() as meter:
        started = time.perf_counter()
        written = feed.publish_everything(day=timezone.localdate() + datetime.timedelta(days=1))
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "events": written, "cpu_seconds": meter.result}


def _feed_publisher(consent: bool = True) -> tuple[int, str, dict[str, int]]:
    """One publisher, its product for year groups 1-8, and at every school a consent (unless
    `consent` is False) and a running per-group contract linked to every active group (groups
    and clusters). Bulk inserts, so no signal compares a school before publish_everything does
    (as when the contracts start by date: the nightly comparison finds every school new)."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from klaspoort.exchange.models import PublisherApiToken
    from klaspoort.licences.models import Contract, GroupLicence, Product
    from klaspoort.roster.models import Group
    from klaspoort.schools.models import Publisher, PublisherConsent, School

    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        publisher = Publisher.objects.create(name="Uitgeverij Benchmark", slug="bench-feed")
        product = Product.objects.create(publisher=publisher, code="BENCH-ALL",
                                         name="Methode voor alle groepen",
                                         year_groups=list(range(1, 9)))
        schools = list(School.objects.values_list("pk", "brin", "dependancecode"))
        PublisherConsent.objects.bulk_create(
            [PublisherConsent(school_id=pk, publisher=publisher, given_at=now)
             for pk, _brin, _dep in schools if consent], batch_size=2000)
        contracts = Contract.objects.bulk_create(
            [Contract(publisher=publisher, school_id=pk, brin6=f"{brin}{dep}",
                      number=f"BENCH-{pk}", title=product.name, product=product,
                      start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=365),
                      contract_type=Contract.Type.GROUP) for pk, brin, dep in schools],
            batch_size=2000)
        contract_of = {c.school_id: c.pk for c in contracts}
        # Groups as automatic linking links them (all year groups); clusters (plusklas) as a
        # coordinator links them by hand, so the nightly auto_link leaves them alone.
        links = [GroupLicence(contract_id=contract_of[school_id], group_id=group_id,
                              automatic=kind == Group.Kind.GROUP)
                 for group_id, school_id, kind in Group.objects.filter(active=True).values_list(
                     "pk", "school_id", "kind").iterator(chunk_size=10000)]
        GroupLicence.objects.bulk_create(links, batch_size=5000)
        _row, token = PublisherApiToken.issue(publisher, "country benchmark")
    _analyze(["schools_publisherconsent", "licences_contract", "licences_grouplicence"])
    return publisher.pk, token, {"schools": len(schools), "group_licences": len(links)}


def _analyze(tables: list[str]) -> float:
    """What autovacuum would do after a bulk load (this server runs with it off)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')
    return round(time.perf_counter() - started, 1)


def _read_feed_over_http(args: argparse.Namespace, url: str, token: str) -> dict[str, Any]:
    """The whole feed from cursor 0, page after page, by a client that knows only the
    documented API: what a publisher's first synchronisation costs."""
    import urllib.request

    base = f"http://127.0.0.1:{args.feed_port}"
    env = {**os.environ, "DATABASE_URL": url, "KLASPOORT_DEBUG": "0",
           "KLASPOORT_SECRET_KEY": "bench-" + "k" * 50,
           "KLASPOORT_ALLOWED_HOSTS": "127.0.0.1,localhost", "KLASPOORT_SITE_URL": base,
           "KLASPOORT_VAR_DIR": str(OUT / "feed-var"), "KLASPOORT_LOG_LEVEL": "WARNING",
           # The default (600 requests a minute per token) alone would make 1,700 pages take
           # three clock minutes; the benchmark measures the server, not the limit.
           "KLASPOORT_PUBLISHER_API_RATE": str(args.feed_rate)}
    command = [str(BIN / "gunicorn"), "klaspoort.wsgi", "-w", str(args.feed_workers), "-b",
               f"127.0.0.1:{args.feed_port}", "--worker-class", "sync", "--timeout", "120",
               "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        _wait_for(base + FEED_PATH)
        cursor, pages, events, size, last = "0", 0, 0, 0, 0
        entities: Counter[str] = Counter()
        page_seconds: list[float] = []
        server_cpu0 = _tree_cpu_seconds(server.pid)
        with CpuMeter() as meter:
            started = time.perf_counter()
            while True:
                request = urllib.request.Request(  # noqa: S310 - our own local server
                    f"{base}{FEED_PATH}?after={cursor}&limit={args.feed_page}", headers=headers)
                page_started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                    raw = response.read()
                page_seconds.append(time.perf_counter() - page_started)
                body = json.loads(raw)
                for event in body["events"]:
                    # The feed's promise: consecutive numbers, no gap, no repeat.
                    if event["sequence"] != last + 1:
                        raise SystemExit(f"feed gap: {event['sequence']} after {last}")
                    last = event["sequence"]
                    entities[f"{event['entity']} {event['type']}"] += 1
                pages += 1
                events += len(body["events"])
                size += len(raw)
                cursor = body["next_cursor"]
                if pages % 200 == 0:
                    _say(f"  feed: {pages} pages, {events} events, "
                         f"{time.perf_counter() - started:.0f} s")
                if not body["has_more"]:
                    break
            wall = time.perf_counter() - started
        server_cpu = _tree_cpu_seconds(server.pid) - server_cpu0
    finally:
        server.terminate()
        server.wait(timeout=30)
    page_seconds.sort()
    return {
        "seconds": round(wall, 1), "pages": pages, "events": events,
        "events_per_second": round(events / wall), "megabytes": round(size / 1e6, 1),
        "page_ms": {"median": round(statistics.median(page_seconds) * 1000, 1),
                    "p95": round(page_seconds[int(len(page_seconds) * 0.95) - 1] * 1000, 1),
                    "max": round(page_seconds[-1] * 1000, 1)},
        "events_by_kind": dict(sorted(entities.items())),
        "server": " ".join(["gunicorn", *command[1:]]),
        "rate_per_minute": args.feed_rate,
        "server_cpu_seconds": round(server_cpu, 1), "cpu_seconds": meter.result}


def _start_worker(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """A Celery worker for the feed's comparisons, as production runs one beside the nightly
    run, with a lower priority so the import keeps the CPU it had; its queue emptied first."""
    environment = {**os.environ, "CELERY_BROKER_URL": args.broker,
                   "CELERY_TASK_ALWAYS_EAGER": "0"}
    subprocess.run([str(BIN / "celery"), "-A", "klaspoort", "purge", "-f"], env=environment,
                   check=True, capture_output=True)
    command = ["nice", "-n", str(args.worker_nice), str(BIN / "celery"), "-A", "klaspoort",
               "worker", "-c", "1", "-l", "warning", "--without-mingle", "--without-gossip"]
    _say("worker: " + " ".join(command))
    log = (OUT / "country-worker.log").open("wb")
    worker = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(5)
    return worker


def _run_nightly(command: list[str], environment: dict[str, str] | None) -> tuple[str, float]:
    """Run `klaspoort nightly`; its output, and the moment its "import(s) processed" line
    arrived (it flushes that line before it compares the feed)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    assert process.stdout is not None
    lines, imports_done = [], 0.0
    for line in process.stdout:
        lines.append(line)
        if "import(s) processed" in line:
            imports_done = time.perf_counter()
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return "".join(lines), imports_done or time.perf_counter()


def _feed_caught_up(events_before: int, started: float) -> float:
    """Seconds from the start of the processing until the worker has written the night's
    events: the event count stops growing for five seconds."""
    from klaspoort.exchange.models import FeedEvent

    last, still_since = -1, time.perf_counter()
    while True:
        count = FeedEvent.objects.count()
        if count != last:
            last, still_since = count, time.perf_counter()
        elif time.perf_counter() - still_since >= 5 and count > events_before:
            return round(still_since - started, 1)
        time.sleep(0.5)


def _wait_for(address: str) -> None:
    import urllib.error
    import urllib.request

    for _ in range(300):
        try:
            urllib.request.urlopen(address, timeout=2)  # noqa: S310 - our own local server
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without a token): it is up
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {address} did not start")


def _tree_cpu_seconds(root: int) -> float:
    """User + system seconds of a process and its children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        rest = text[text.rindex(")") + 2:].split()
        pid = int(stat.parent.name)
        children.setdefault(int(rest[1]), []).append(pid)
        times[pid] = (int(rest[11]) + int(rest[12])) / ticks
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------
def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _recreate_database(server: str, name: str) -> None:
    _drop_database(server, name)
    _admin(server, f'CREATE DATABASE "{name}"')


def _drop_database(server: str, name: str) -> None:
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_facts() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        facts: dict[str, Any] = {"version": cursor.fetchone()[0]}
        for setting in ("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit",
                        "fsync", "wal_level", "max_connections", "autovacuum", "jit"):
            cursor.execute(f"SHOW {setting}")
            facts[setting] = cursor.fetchone()[0]
    return facts


def _vacuum_analyze() -> float:
    """What autovacuum does after a bulk load (this server runs with it off): timed apart."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return round(time.perf_counter() - started, 1)


def _database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


def _row_counts() -> dict[str, int]:
    from klaspoort.accounts.models import User
    from klaspoort.roster.models import Group, Pupil, RosterEvent, RosterImport, Teacher
    from klaspoort.schools.models import School

    return {
        "schools": School.objects.count(),
        "groups": Group.objects.filter(active=True).count(),
        "pupils": Pupil.objects.filter(active=True).count(),
        "teachers": Teacher.objects.filter(active=True).count(),
        "users": User.objects.count(),
        "events": RosterEvent.objects.count(),
        "imports": RosterImport.objects.count(),
    }


def _nightly_counts() -> dict[str, dict[str, int]]:
    from klaspoort.roster.models import RosterImport

    totals: dict[str, Counter[str]] = {"groups": Counter(), "pupils": Counter(),
                                       "teachers": Counter()}
    for counts in RosterImport.objects.filter(source="coupling").values_list("counts", flat=True):
        for part, tally in counts.items():
            totals[part].update(tally)
    return {part: dict(tally) for part, tally in totals.items()}


def _nightly_problem(counts: dict[str, dict[str, int]], expected: dict[str, int]) -> str:
    pupils = counts["pupils"]
    wanted = {"added": expected.get("new", 0),
              "changed": expected.get("moved", 0) + expected.get("renamed", 0),
              "deactivated": expected.get("left", 0)}
    if {k: pupils.get(k, 0) for k in wanted} != wanted:
        return f"nightly counts {pupils} differ from the changes made {wanted}"
    if any(counts[part].get(k, 0) for part in ("groups", "teachers") for k in wanted):
        return f"groups or teachers changed in the nightly run: {counts}"
    return ""


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
class CpuMeter:
    """Who used the CPUs during a phase: this benchmark, PostgreSQL, or anything else.

    The machine is shared; a figure is only fair if it says how much of the two cores other
    work took. Python CPU is exact (getrusage of this process and its finished children);
    PostgreSQL's is sampled from /proc every half second (a backend that lives shorter than
    that is missed and counted as "other"); "other" is the rest of the machine's busy time.
    """

    def __init__(self) -> None:
        self.result: dict[str, float] = {}
        self._stop = threading.Event()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def __enter__(self) -> CpuMeter:
        self._busy = _machine_busy_seconds()
        self._mine = _own_cpu_seconds()
        self._wall = time.perf_counter()
        self._load = os.getloadavg()[0]
        self._sample(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        busy = _machine_busy_seconds() - self._busy
        mine = _own_cpu_seconds() - self._mine
        postgres = sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)
        wall = time.perf_counter() - self._wall
        self.result = {
            "wall": round(wall, 1),
            "available": round(wall * (os.cpu_count() or 1), 1),
            "busy": round(busy, 1),
            "python": round(mine, 1),
            "postgres": round(postgres, 1),
            "other": round(max(0.0, busy - mine - postgres), 1),
            "load_average_1min_start": round(self._load, 2),
            "load_average_1min_end": round(os.getloadavg()[0], 2),
        }

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample(first=False)

    def _sample(self, *, first: bool) -> None:
        for pid, seconds in _postgres_cpu_seconds().items():
            if first:
                self._first[pid] = seconds
            self._last[pid] = max(seconds, self._last.get(pid, 0.0))


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    return sum(getattr(resource.getrusage(who), f)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def _postgres_cpu_seconds() -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        if name == "postgres" or name.startswith("postgres:"):
            rest = text[text.rindex(")") + 2:].split()
            found[int(stat.parent.name)] = (int(rest[11]) + int(rest[12])) / ticks
    return found


def _machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count(), "cpu": _cpu_model(), "memory_gb": round(memory / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _report(part: dict[str, Any], name: str) -> None:
    _say(f"{name}: {part['seconds']} s, {part['statuses']}, per file {part['per_file_seconds']}")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


def _say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S} UTC] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
