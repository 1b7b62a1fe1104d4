"""Crash safety of the results delivery with a real Celery worker on PostgreSQL and Redis: a
worker killed (SIGKILL, the whole process group) in the middle of sending loses nothing, and the
LAS ends up holding every result exactly once.

The example LAS answers slowly (0.3 s a message, 50 results a message), so the kill falls in
the middle of the coupling's batches. A second worker, with the periodic sweep running every
2 s and leases of 5 s, takes the rows the dead one had leased once the lease ends. The batch on
the wire when the worker died may have reached the LAS without Klaspoort hearing the
confirmation: it is sent again, and the LAS replaces it by its key (counted as repeats).

Runs only on PostgreSQL (DATABASE_URL postgres://…) with Redis answering on 127.0.0.1:6379, as
CI's second leg has them (.ci/run); the broker is Redis database CELERY_BROKER_URL's (default
11) minus the xdist worker's number, emptied first; the workers' cache (the senders' locks)
is the same database.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import redis
from django.db import connection
from django.utils import timezone

from klaspoort.results.models import Delivery, Result, ResultCoupling
from tests.factories import LasSystemFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ProductFactory
from tests.results.las import KEY, coupling_for, served_las

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
RESULTS = 500
PUPILS = 50


def _redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    or not _redis_answers(),
    reason="needs PostgreSQL (DATABASE_URL) and Redis on 127.0.0.1:6379")


def broker_url() -> str:
    configured = os.environ.get("CELERY_BROKER_URL", "")
    base = urlsplit(configured if configured.startswith("redis://")
                    else "redis://127.0.0.1:6379/11")
    number = int(base.path.strip("/") or 0)
    number -= int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return base._replace(path=f"/{number}").geturl()


def database_url() -> str:
    """The test database (not the configured one) for the worker processes."""
    s = connection.settings_dict
    return (f"postgres://{quote(s['USER'])}:{quote(s['PASSWORD'])}@{s['HOST'] or 'localhost'}"
            f":{s['PORT'] or 5432}/{s['NAME']}")


def environment(broker: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0", "KLASPOORT_CACHE_URL": broker,
            "KLASPOORT_RESULTS_BATCH": "50", "KLASPOORT_RESULTS_LEASE": "5",
            "KLASPOORT_RESULTS_BACKOFF": "1", "KLASPOORT_RESULTS_SWEEP_SECONDS": "2",
            "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "klaspoort.settings"}


def start_worker(env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    # A session of its own: the kill takes the pool's children with the main process, as a
    # machine that dies would.
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "klaspoort", "worker", "-c", "1", "-l", "info",
         "--without-mingle", "--without-gossip", "--without-heartbeat", *extra],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)


def wait_for(condition, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"timed out waiting for {what}; worker log:\n{tail}")
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_loses_nothing_and_the_las_holds_each_result_once(
        transactional_db, tmp_path):
    broker = broker_url()
    env = environment(broker)
    # Nothing of an earlier run: no queued or unacknowledged task, no sender's lock.
    redis.Redis.from_url(broker).flushdb()
    log = tmp_path / "workers.log"
    first = second = None
    with served_las(delay_ms=300) as las:
        school = SchoolFactory(brin="99ZZ", dependancecode="00")
        coupling = coupling_for(school, LasSystemFactory(results_endpoint=las.url))
        product = ProductFactory()
        pupils = [PupilFactory(school=school) for _n in range(PUPILS)]
        results = Result.objects.bulk_create(
            Result(school=school, pupil=pupils[n % PUPILS], publisher=product.publisher,
                   product=product, external_id=f"K{n}", kind=Result.Kind.TEST,
                   test_code="REK-M5-B1", test_name="Rekenen blok 1", score=n % 41,
                   max_score=40, taken_on=dt.date(2026, 11, 12))
            for n in range(RESULTS))
        Delivery.objects.bulk_create(
            Delivery(coupling=coupling, result=r, result_version=1,
                     next_attempt_at=timezone.now()) for r in results)
        expected = sorted(str(r.uid) for r in results)
        try:
            first = start_worker(env, log)
            subprocess.run([str(BIN / "celery"), "-A", "klaspoort", "call",
                            "klaspoort.results.tasks.deliver_coupling",
                            f"--args=[{coupling.pk}]"], cwd=ROOT, env=env, check=True,
                           capture_output=True)
            # Killed once a few batches were confirmed: some rows sent, one batch perhaps on
            # the wire (at the LAS, unconfirmed), the rest not yet taken.
            wait_for(lambda: Delivery.objects.filter(state=Delivery.State.SENT).count() >= 100,
                     60, "the first batches confirmed", log)
            stop(first)
            at_kill = las.store.counts()["results"]
            assert 0 < at_kill < RESULTS, "the worker was not killed mid-way"
            assert Delivery.objects.filter(state=Delivery.State.WAITING).exists()

            # A new worker with the periodic sweep: the dead worker's leased rows wait for
            # their lease to end, then go.
            second = start_worker(env, log, "-B", "-s", str(tmp_path / "beat-schedule"))
            wait_for(lambda: not Delivery.objects.filter(
                state=Delivery.State.WAITING).exists(), 120, "every row sent", log)
        finally:
            stop(first)
            stop(second)
        counts = las.store.counts(keys=True)
    assert counts["keys"] == expected  # every result, none missing, none extra
    assert counts["results"] == RESULTS
    # Whatever arrived twice was a repeat of a held result, replaced rather than held again.
    assert counts["received"] == RESULTS + counts["repeats"]
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    coupling = ResultCoupling.objects.get(pk=coupling.pk)
    assert coupling.state == ResultCoupling.State.OK
    assert coupling.delivered_count == RESULTS
    assert KEY not in log.read_text(errors="replace")
