"""Sending results to the school's LAS (results.delivery) against the example LAS served in the
test, without a worker: the functions are called directly, the Celery tasks eagerly.

What a coordinator or the LAS notices: every result arrives once; a LAS that is down gets the
results later (after a growing wait), a wrong key shows as a refusal in plain Dutch and nothing
is lost meanwhile; results that cannot be delivered for days are given up and counted; practice
results only reach a LAS that takes them; grade boundaries only go along when ticked; an older
version of a result never overwrites a newer one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction
from django.utils import timezone, translation
from lxml import etree

from klaspoort.results import delivery, tasks
from klaspoort.results.delivery_selectors import delivery_counts
from klaspoort.results.models import Delivery, GradeBoundary, Result, ResultCoupling
from klaspoort.results.outbox import queue_deliveries
from klaspoort.roster.coupling_selectors import error_text
from klaspoort.roster.secrets import seal_text
from tests.factories import LasSystemFactory, PupilFactory, ResultFactory, SchoolFactory
from tests.results.las import KEY, coupling_for, served_las
from tests.results.test_uwlr import needs_schemas, schema_errors

pytestmark = pytest.mark.django_db

CONFIRMED = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<soap:Body><lr:leerresultaten_bevestiging xmlns:lr="http://www.edustandaard.nl/'
             b'leerresultaten/2/leerresultaten"/></soap:Body></soap:Envelope>')
BANDS = [{"term": "onvoldoende", "grade_from": 1.0, "grade_to": 5.4},
         {"term": "voldoende", "grade_from": 5.5, "grade_to": 10.0}]


@pytest.fixture
def las():
    with served_las() as served:
        yield served


@pytest.fixture
def coupling(school, las):
    return coupling_for(school, LasSystemFactory(name="ParnasSys", results_endpoint=las.url))


def results_of(school, count: int = 5, pupils: int = 3, **fields) -> list[Result]:
    kids = [PupilFactory(school=school) for _n in range(pupils)]
    return [ResultFactory(pupil=kids[n % pupils], **fields) for n in range(count)]


def queued(results: list[Result], **kwargs) -> int:
    # queue_deliveries starts the task after the commit; the tests call delivery themselves.
    with transaction.atomic():
        return queue_deliveries(results, **kwargs)


def make_due(coupling: ResultCoupling) -> None:
    """As if the backoff (or lease) had passed."""
    Delivery.objects.filter(coupling=coupling, state=Delivery.State.WAITING).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


# ---------------------------------------------------------------------------------------------
def test_every_result_arrives_once_and_the_coupling_shows_the_delivery(school, las, coupling):
    results = results_of(school, 5)
    assert queued(results) == 5
    summary = delivery.deliver(coupling.pk)
    assert summary.sent == 5
    counts = las.store.counts(keys=True)
    assert counts["results"] == 5 and counts["messages"] == 1 and counts["repeats"] == 0
    assert counts["keys"] == sorted(str(r.uid) for r in results)
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.OK and coupling.last_error == {}
    assert coupling.delivered_count == 5 and coupling.last_delivery_at is not None
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    # Nothing is sent twice: a second run finds nothing due.
    assert delivery.deliver(coupling.pk).sent == 0
    assert las.store.counts()["messages"] == 1
    assert delivery_counts([coupling.pk]) == {coupling.pk: {"sent": 5, "waiting": 0,
                                                            "failed": 0}}


def test_results_go_in_batches_of_the_configured_size(school, las, coupling, settings):
    settings.RESULTS_BATCH_SIZE = 2
    queued(results_of(school, 5))
    assert delivery.deliver(coupling.pk).sent == 5
    assert las.store.counts()["messages"] == 3
    assert las.store.counts()["results"] == 5


def test_the_las_holds_each_result_under_the_pupils_key(school, las, coupling):
    pupil = PupilFactory(school=school, key="LL-4711", eckid="https://ketenid.nl/eck/1")
    result = ResultFactory(pupil=pupil, score=27, test_code="REK-M5-B1")
    queued([result])
    delivery.deliver(coupling.pk)
    held = las.store.held[str(result.uid)]
    assert (held.pupil, held.eckid, held.score, held.test_code, held.brin6) == (
        "LL-4711", "https://ketenid.nl/eck/1", "27", "REK-M5-B1", "99ZZ00")


def test_a_las_that_is_down_gets_the_results_later_after_a_growing_wait(school, las, coupling,
                                                                       settings):
    settings.RESULTS_BACKOFF_SECONDS = 30
    settings.RESULTS_BACKOFF_MAX_SECONDS = 3600
    queued(results_of(school, 3))
    working = coupling.las.results_endpoint
    type(coupling.las).objects.filter(pk=coupling.las_id).update(
        results_endpoint="http://127.0.0.1:9/leerresultaten")  # nothing listens there
    before = timezone.now()
    summary = delivery.deliver(coupling.pk)
    assert summary.sent == 0 and summary.following is not None
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.FAILING
    with translation.override("nl"):
        assert error_text(coupling.last_error).startswith(
            "Klaspoort kon geen verbinding maken met ParnasSys.")
    rows = list(Delivery.objects.all())
    assert {r.state for r in rows} == {"waiting"} and {r.attempts for r in rows} == {1}
    waits = {round((r.next_attempt_at - before).total_seconds()) for r in rows}
    assert waits == {30}
    # Not due yet: a run now tries nothing.
    assert delivery.deliver(coupling.pk).sent == 0
    assert {r.attempts for r in Delivery.objects.all()} == {1}
    # The second failure waits twice as long.
    make_due(coupling)
    before = timezone.now()
    delivery.deliver(coupling.pk)
    assert {round((r.next_attempt_at - before).total_seconds())
            for r in Delivery.objects.all()} == {60}
    # The LAS is back: everything arrives, and the coupling is fine again.
    type(coupling.las).objects.filter(pk=coupling.las_id).update(results_endpoint=working)
    make_due(coupling)
    assert delivery.deliver(coupling.pk).sent == 3
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.OK and coupling.last_error == {}
    assert las.store.counts()["results"] == 3


def test_the_wait_never_grows_beyond_the_maximum(settings):
    settings.RESULTS_BACKOFF_SECONDS = 30
    settings.RESULTS_BACKOFF_MAX_SECONDS = 3600
    assert delivery.backoff(0) == dt.timedelta(seconds=30)
    assert delivery.backoff(3) == dt.timedelta(seconds=240)
    assert delivery.backoff(20) == dt.timedelta(seconds=3600)


def test_a_wrong_key_is_a_refusal_in_plain_dutch_and_the_results_keep_waiting(school, las):
    coupling = coupling_for(school, LasSystemFactory(name="ParnasSys", results_endpoint=las.url),
                            key="verkeerde-sleutel-0000")
    queued(results_of(school, 2))
    delivery.deliver(coupling.pk)
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.REFUSED
    with translation.override("nl"):
        assert error_text(coupling.last_error).startswith(
            "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys.")
    assert "verkeerde-sleutel" not in str(coupling.last_error)
    assert las.store.counts()["results"] == 0 and las.store.counts()["faults"] == 1
    assert set(Delivery.objects.values_list("state", flat=True)) == {"waiting"}
    # The coordinator enters the right key: the waiting results go at once.
    ResultCoupling.objects.filter(pk=coupling.pk).update(
        sealed_key=seal_text(delivery.KEY_PURPOSE, KEY))
    assert delivery.retry_now(coupling) == 2
    assert delivery.deliver(coupling.pk).sent == 2
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.OK


def test_an_unknown_school_is_a_refusal_naming_the_school(school, settings):
    with served_las(schools={"11AA00": KEY}) as other:
        coupling = coupling_for(school, LasSystemFactory(name="ESIS",
                                                         results_endpoint=other.url))
        queued(results_of(school, 1))
        delivery.deliver(coupling.pk)
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.REFUSED
    with translation.override("nl"):
        assert "99ZZ00" in error_text(coupling.last_error)


def test_results_that_cannot_be_delivered_for_days_are_given_up(school, las, coupling,
                                                               settings):
    settings.RESULTS_GIVE_UP_HOURS = 72
    old, fresh = results_of(school, 2)
    queued([old, fresh])
    Delivery.objects.filter(result=old).update(
        created_at=timezone.now() - dt.timedelta(hours=73))
    type(coupling.las).objects.filter(pk=coupling.las_id).update(
        results_endpoint="http://127.0.0.1:9/leerresultaten")
    summary = delivery.deliver(coupling.pk)
    assert summary.failed == 1
    assert Delivery.objects.get(result=old).state == Delivery.State.FAILED
    assert Delivery.objects.get(result=fresh).state == Delivery.State.WAITING
    assert delivery_counts([coupling.pk])[coupling.pk] == {"sent": 0, "waiting": 1,
                                                           "failed": 1}
    # A failed result is not tried again.
    type(coupling.las).objects.filter(pk=coupling.las_id).update(results_endpoint=las.url)
    make_due(coupling)
    delivery.deliver(coupling.pk)
    assert las.store.counts(keys=True)["keys"] == [str(fresh.uid)]


def test_practice_results_only_reach_a_las_that_takes_them(school, las):
    takes_practice = LasSystemFactory(name="Momento", results_endpoint=las.url,
                                      takes_practice_results=True)
    only_tests = LasSystemFactory(name="ParnasSys", results_endpoint=las.url)
    test = ResultFactory(pupil=PupilFactory(school=school))
    practice = ResultFactory(pupil=PupilFactory(school=school), kind=Result.Kind.PRACTICE)
    first = coupling_for(school, only_tests)
    queued([test, practice])
    delivery.deliver(first.pk)
    assert las.store.counts(keys=True)["keys"] == [str(test.uid)]
    first.delete()
    second = coupling_for(school, takes_practice)
    queued([practice])
    delivery.deliver(second.pk)
    assert str(practice.uid) in las.store.counts(keys=True)["keys"]


def test_a_las_that_stopped_taking_practice_results_does_not_get_the_queued_ones(school, las):
    momento = LasSystemFactory(name="Momento", results_endpoint=las.url,
                               takes_practice_results=True)
    coupling = coupling_for(school, momento)
    practice = ResultFactory(pupil=PupilFactory(school=school), kind=Result.Kind.PRACTICE)
    queued([practice])
    type(momento).objects.filter(pk=momento.pk).update(takes_practice_results=False)
    delivery.deliver(coupling.pk)
    assert las.store.counts()["results"] == 0
    assert Delivery.objects.get().state == Delivery.State.FAILED


@pytest.mark.parametrize("ticked, kind, normeringen", [
    (False, Result.Kind.TEST, 0),
    (True, Result.Kind.TEST, 1),
    (True, Result.Kind.OBSERVATION, 0),  # observations carry no norms
])
def test_grade_boundaries_go_along_only_when_ticked(school, las, ticked, kind, normeringen):
    coupling = coupling_for(school, LasSystemFactory(results_endpoint=las.url),
                            boundaries=ticked)
    result = ResultFactory(pupil=PupilFactory(school=school), kind=kind)
    GradeBoundary.objects.create(publisher=result.publisher, product=result.product,
                                 test_type=result.test_type, bands=BANDS)
    queued([result])
    delivery.deliver(coupling.pk)
    assert las.store.counts()["results"] == 1
    assert las.store.counts()["normeringen"] == normeringen


def test_an_older_version_is_not_sent_after_a_newer_one(school, las, coupling):
    result = ResultFactory(pupil=PupilFactory(school=school), score=10)
    queued([result])
    older = Delivery.objects.get()
    # The publisher corrects the score before the first version went out.
    Result.objects.filter(pk=result.pk).update(score=25, version=2)
    result.refresh_from_db()
    queued([result])
    # The older row waits on a backoff; the newer one is due.
    Delivery.objects.filter(pk=older.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5))
    assert delivery.deliver(coupling.pk).sent == 1
    assert las.store.held[str(result.uid)].score == "25"
    # The older row was settled with the newer version: when its time comes nothing goes.
    assert Delivery.objects.get(pk=older.pk).state == Delivery.State.SENT
    make_due(coupling)
    delivery.deliver(coupling.pk)
    counts = las.store.counts()
    assert counts["received"] == 1 and counts["messages"] == 1
    assert las.store.held[str(result.uid)].score == "25"


def test_both_versions_due_at_once_go_as_one_result(school, las, coupling):
    result = ResultFactory(pupil=PupilFactory(school=school), score=10)
    queued([result])
    Result.objects.filter(pk=result.pk).update(score=25, version=2)
    result.refresh_from_db()
    queued([result])
    assert delivery.deliver(coupling.pk).sent == 1
    assert las.store.counts()["received"] == 1
    assert las.store.held[str(result.uid)].score == "25"
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    coupling.refresh_from_db()
    assert coupling.delivered_count == 1


def test_the_key_is_never_logged(school, las, caplog):
    caplog.set_level(logging.DEBUG)
    good = coupling_for(school, LasSystemFactory(results_endpoint=las.url))
    queued(results_of(school, 2))
    delivery.deliver(good.pk)
    wrong = "verkeerde-sleutel-0000"
    ResultCoupling.objects.filter(pk=good.pk).update(
        sealed_key=seal_text(delivery.KEY_PURPOSE, wrong))
    queued(results_of(school, 1))
    delivery.deliver(good.pk)
    assert las.store.counts()["faults"] == 1
    assert KEY not in caplog.text and wrong not in caplog.text


def test_only_one_sender_per_coupling_at_a_time(school, las, coupling):
    queued(results_of(school, 2))
    holder = delivery._SenderLock(coupling.pk)
    assert holder.acquire()
    assert delivery.deliver(coupling.pk).busy
    assert las.store.counts()["results"] == 0
    holder.release()
    assert delivery.deliver(coupling.pk).sent == 2


def test_the_tasks_send_what_is_queued_and_what_is_due(school, las, coupling, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    first = results_of(school, 2)
    queued(first)
    assert tasks.deliver_coupling(coupling.pk) == 2
    # Rows whose task was lost: the periodic sweep finds them.
    queued(results_of(school, 3))
    assert delivery.due_coupling_ids() == [coupling.pk]
    assert tasks.deliver_due_results() == 1
    assert las.store.counts()["results"] == 5
    assert delivery.due_coupling_ids() == []


def test_queued_results_are_sent_after_the_commit(school, las, coupling,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue_deliveries(results_of(school, 2))
    assert las.store.counts()["results"] == 2


def test_one_schools_results_never_go_to_another_schools_coupling(school, las, coupling):
    other = SchoolFactory()
    other_coupling = coupling_for(other, LasSystemFactory(results_endpoint=las.url))
    queued(results_of(school, 2) + results_of(other, 1))
    delivery.deliver(coupling.pk)
    held = las.store.counts()
    assert held["schools"] == {"99ZZ00": 2}
    assert Delivery.objects.filter(coupling=other_coupling, state="waiting").count() == 1


@contextlib.contextmanager
def answering(status: int, body: bytes, headers: dict[str, str] | None = None,
              received: list[tuple[dict[str, str], bytes]] | None = None):
    """A server that answers every POST with this status and body (not a UWLR LAS); what it
    receives goes into `received` (headers, body)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if received is not None:
                received.append((dict(self.headers), data))
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/leerresultaten"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status, body, headers, words", [
    (503, b"<html>Onderhoud</html>", {}, "HTTP-fout 503"),
    (200, b"<html>Welkom</html>", {}, "UWLR"),
    (302, b"", {"Location": "http://elders.example/"}, "ander adres"),
])
def test_a_las_that_does_not_confirm_is_failing_and_the_results_wait(
        school, coupling, status, body, headers, words):
    queued(results_of(school, 1))
    with answering(status, body, headers) as url:
        type(coupling.las).objects.filter(pk=coupling.las_id).update(results_endpoint=url)
        delivery.deliver(coupling.pk)
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.FAILING
    with translation.override("nl"):
        assert words in error_text(coupling.last_error)
    row = Delivery.objects.get()
    assert row.state == Delivery.State.WAITING and row.attempts == 1


@pytest.mark.parametrize("with_lock", [True, False])
def test_two_senders_at_once_send_each_result_once(shared_database, settings, monkeypatch,
                                                   with_lock):
    """Two workers on one coupling at the same moment: with the lock one of them stands back;
    without it (workers that share no cache) the leases still give every row to one of them."""

    settings.RESULTS_BATCH_SIZE = 5
    if not with_lock:
        monkeypatch.setattr(delivery._SenderLock, "acquire", lambda self: True)
    with served_las(delay_ms=20) as las:
        school = SchoolFactory(brin="99ZZ", dependancecode="00")
        coupling = coupling_for(school, LasSystemFactory(results_endpoint=las.url))
        # Rows written directly: queue_deliveries would send them at the commit already.
        Delivery.objects.bulk_create(
            Delivery(coupling=coupling, result=r, next_attempt_at=timezone.now())
            for r in results_of(school, 40, pupils=8))

        def sender(_n: int) -> int:
            try:
                return delivery.deliver(coupling.pk).sent
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=2) as pool:
            sent = sum(pool.map(sender, range(2)))
        counts = las.store.counts()
    assert sent == 40
    assert counts["results"] == 40 and counts["repeats"] == 0 and counts["received"] == 40
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert ResultCoupling.objects.get(pk=coupling.pk).delivered_count == 40


def test_a_las_that_answers_too_slowly_is_failing_and_the_results_wait(school, settings):
    settings.RESULTS_LEASE_SECONDS = 120
    with served_las(delay_ms=2500) as slow:
        coupling = coupling_for(school, LasSystemFactory(name="ParnasSys", timeout_seconds=1,
                                                         results_endpoint=slow.url))
        queued(results_of(school, 1))
        delivery.deliver(coupling.pk)
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.FAILING
    with translation.override("nl"):
        assert error_text(coupling.last_error).startswith(
            "ParnasSys gaf geen antwoord binnen 1 seconden.")
    assert Delivery.objects.get().state == Delivery.State.WAITING


@needs_schemas
def test_the_message_delivery_sends_is_valid_uwlr_with_everything_in_it(school, settings):
    """What goes over the wire, not only what uwlr.build_request can write: eckid, tests and
    observations, norms, several pupils, a second test code."""
    settings.RESULTS_BATCH_SIZE = 500
    received: list[tuple[dict[str, str], bytes]] = []
    with answering(200, CONFIRMED, {"Content-Type": "text/xml"}, received) as url:
        coupling = coupling_for(school, LasSystemFactory(results_endpoint=url,
                                                         takes_practice_results=True),
                                boundaries=True)
        with_eck = PupilFactory(school=school, eckid="https://ketenid.nl/201703/abc")
        test = ResultFactory(pupil=with_eck, test_code="REK-M5-B1")
        GradeBoundary.objects.create(publisher=test.publisher, product=test.product,
                                     test_type=test.test_type, bands=BANDS)
        others = [ResultFactory(pupil=with_eck, product=test.product, kind=kind,
                                test_code=code, max_score=None if kind == "observatie" else 40)
                  for kind, code in (("observatie", "OBS-1"), ("oefening", "OEF-1"),
                                     ("toets", "REK-M5-B1"))]
        queued([test, *others, *results_of(school, 4)])
        assert delivery.deliver(coupling.pk).sent == 8
    assert len(received) == 1
    headers, body = received[0]
    assert headers["SOAPAction"] == '"BrengLeerresultaten"'
    assert schema_errors(body) == []
    assert KEY.encode() in body  # the key travels in the header, and only there
    assert b"<lr:eckid>https://ketenid.nl/201703/abc</lr:eckid>" in body
    root = etree.fromstring(body)
    normed = root.xpath("//*[local-name()='toets'][*[local-name()='toetsnormering']]"
                        "/*[local-name()='toetscode']/text()")
    # The product's boundaries go with its test and its practice; an observation has none.
    assert sorted(normed) == ["OEF-1", "REK-M5-B1"]
