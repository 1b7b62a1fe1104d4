"""How fast a publisher's batch of 1,000 results is taken in (issue 15 §8: < 1 s per call).

Each call is `POST /api/publisher/v1/results` with 1,000 results through Django's test client
in this process (middleware, token, rate limit, validation, the access rule, the bulk writes
and the outbox rows, commit), without a network. The school is `generate_school(…, 1000,
seed=1)` imported through the roster services, with one publisher it consents to whose
per-group contract is linked to every group, and a results coupling to a LAS, so every result
is also queued for delivery (the sending itself is switched off: that is the delivery
benchmark). Three kinds of call, each timed on its own:

- new: 1,000 results never sent before (stored, queued);
- unchanged: a batch sent again exactly (nothing written);
- changed: a batch sent again with other scores (updated in place, queued again).

    .venv/bin/python bench/results_ingest.py                      # SQLite, a file of its own
    DATABASE_URL=postgres://klaspoort_ci:klaspoort_ci@localhost:5432/klaspoort_bench_ingest \
        .venv/bin/python bench/results_ingest.py                  # dropped and created again

Prints the median and 95th percentile per kind of call and writes
bench/out/results-ingest-<database>.json.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

BATCH = 1000
BASE = "/api/publisher/v1"


def _prepare_database(url: str) -> None:
    """A database of its own, empty: an SQLite file under bench/out, or a PostgreSQL database
    whose name starts with klaspoort_bench (dropped and created again)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    name = parts.path.lstrip("/")
    if not name.startswith("klaspoort_bench"):
        raise SystemExit("The database's name must start with klaspoort_bench: it is dropped "
                         "and created again.")
    from bench.country import _recreate_database

    _recreate_database(url[: url.rindex("/")], name)


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
    os.environ["KLASPOORT_LOG_LEVEL"] = "WARNING"
    # Hundreds of calls from one token: the rate limit is not what is measured.
    os.environ["KLASPOORT_PUBLISHER_API_RATE"] = str(10**9)
    # As production: a configured pseudonym key (docs/operations.md).
    os.environ.setdefault("KLASPOORT_PSEUDONYM_KEY", "bench-results-pseudonym-key-" + "k" * 32)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _world(pupils: int) -> dict[str, Any]:
    """The school, its publisher (consent, a per-group contract linked to every group, a token)
    and a results coupling; the pupils' ids as the publisher knows them."""
    from django.db import connection, transaction
    from django.utils import timezone

    from klaspoort.exchange.models import PublisherApiToken
    from klaspoort.licences.models import Contract, Product
    from klaspoort.licences.services import auto_link
    from klaspoort.pseudonyms import PublisherIds
    from klaspoort.results.models import ResultCoupling
    from klaspoort.roster import services as roster
    from klaspoort.roster.generator import generate_school
    from klaspoort.roster.models import LasSystem, Pupil, RosterImport
    from klaspoort.schools.models import Publisher, PublisherConsent, School

    today = timezone.localdate()
    school = School.objects.create(brin="95ZZ", dependancecode="00", name="De Boomgaard")
    record = roster.receive_roster_file(generate_school("95ZZ", "00", pupils, seed=1),
                                        source=RosterImport.Source.UPLOAD, school=school)
    roster.process_import(record.pk)
    publisher = Publisher.objects.create(name="Uitgeverij Resultaat", slug="bench-results")
    product = Product.objects.create(publisher=publisher, code="RES-ALL",
                                     name="Methode voor alle groepen",
                                     year_groups=list(range(1, 9)))
    _row, token = PublisherApiToken.issue(publisher, "bench")
    with transaction.atomic():
        PublisherConsent.objects.create(school=school, publisher=publisher,
                                        given_at=timezone.now())
        Contract.objects.create(
            publisher=publisher, school=school, number="RES-1", title=product.name,
            product=product, start=today - datetime.timedelta(days=30),
            end=today + datetime.timedelta(days=300), contract_type=Contract.Type.GROUP)
        auto_link(school, today=today)
    las = LasSystem.objects.create(name="LAS Bench", slug="las-bench",
                                   method=LasSystem.Method.PULL,
                                   endpoint="https://las.example/uwlr",
                                   results_endpoint="https://las.example/resultaten")
    ResultCoupling.objects.create(school=school, las=las,
                                  since=timezone.now() - datetime.timedelta(days=1))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    ids = PublisherIds(publisher.pk)
    subjects = [ids.subject(user_id) for user_id in
                Pupil.objects.filter(school=school, active=True).values_list("user_id",
                                                                             flat=True)]
    return {"token": token, "school_ref": ids.school(school.pk), "subjects": subjects,
            "product": product.code, "today": today}


def _rows(world: dict[str, Any], first: int, score: int = 7) -> list[dict[str, Any]]:
    subjects = world["subjects"]
    day = (world["today"] - datetime.timedelta(days=1)).isoformat()
    return [{"id": f"bench-{n}", "school_id": world["school_ref"],
             "user_id": subjects[n % len(subjects)], "product": world["product"],
             "test_code": f"BLOK-{n // len(subjects)}", "test_name": "Blok 3 rekenen",
             "test_type": "methodetoets", "kind": "toets", "score": score, "max_score": 20,
             "date": day, "learning_goal_code": "R5.3", "learning_goal": "Breuken vergelijken"}
            for n in range(first, first + BATCH)]


def _timed(call: Callable[[], Any], rounds: int, check: Callable[[Any], None]) -> list[float]:
    seconds = []
    for _round in range(rounds):
        started = time.perf_counter()
        answer = call()
        seconds.append(time.perf_counter() - started)
        check(answer)
    return seconds


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"calls": len(seconds), "median_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="timed calls of each kind")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--pupils", type=int, default=1000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{OUT / 'results-ingest.sqlite3'}"
    _prepare_database(url)
    _setup_django(url)

    from django.db import connection
    from django.test import Client

    from klaspoort.results import outbox
    from klaspoort.results.models import Delivery, Result

    # Measured here: taking results in and queueing them. Sending is the delivery benchmark's.
    outbox.start_delivery = lambda coupling_ids: None  # type: ignore[assignment]
    started = time.perf_counter()
    world = _world(args.pupils)
    print(f"world ready in {time.perf_counter() - started:.1f} s ({connection.vendor}, "
          f"{len(world['subjects'])} pupils)", file=sys.stderr)
    client = Client(HTTP_HOST="localhost")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world['token']}"}

    def post(rows: list[dict[str, Any]]) -> Any:
        return client.post(f"{BASE}/results", data=json.dumps({"results": rows}),
                           content_type="application/json", **headers)

    def expect(field: str) -> Callable[[Any], None]:
        def check(response: Any) -> None:
            assert response.status_code == 200, response.content[:500]
            body = response.json()
            assert body[field] == BATCH and not body["errors"], {
                key: value for key, value in body.items() if key != "errors"} | {
                "first_errors": body["errors"][:3]}
        return check

    sent = iter(range(0, 10**9, BATCH))
    for _round in range(args.warmup):
        expect("created")(post(_rows(world, next(sent))))
    figures: dict[str, Any] = {}
    figures["new"] = _summary(_timed(lambda: post(_rows(world, next(sent))), args.calls,
                                     expect("created")))
    again = _rows(world, 0)
    figures["unchanged"] = _summary(_timed(lambda: post(again), args.calls,
                                           expect("unchanged")))
    # Each call another score than the one before, within the scale (max_score 20).
    scores = itertools.cycle(range(8, 21))
    figures["changed"] = _summary(_timed(lambda: post(_rows(world, 0, next(scores))),
                                         args.calls, expect("updated")))
    results = {"database": connection.vendor, "batch": BATCH, "pupils": len(world["subjects"]),
               "load_average_1min": os.getloadavg()[0], "figures": figures,
               "results_stored": Result.objects.count(),
               "deliveries_queued": Delivery.objects.count(),
               "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    print(f"POST /results, {BATCH} results per call, {connection.vendor}:")
    for kind, figure in figures.items():
        print(f"  {kind:9} median {figure['median_ms']:7.1f} ms   p95 {figure['p95_ms']:7.1f} ms"
              f"   max {figure['max_ms']:7.1f} ms   ({figure['calls']} calls)")
    OUT.mkdir(exist_ok=True)
    (OUT / f"results-ingest-{connection.vendor}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
