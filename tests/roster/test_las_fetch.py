"""The nightly fetch of automatic LAS couplings (roster.las_fetch), against a fake LAS over real
HTTP: a stdlib ThreadingHTTPServer in a thread, answering what each test tells it to.

What a coordinator would notice: the roster from the LAS arrives as an import of source
*automatische koppeling* and is processed by the night; a failure leaves a plain Dutch message
on the coupling (and three in a row one mail); a coupling that is switched off is never
fetched; the key never shows up in a log or a stored import.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone
from lxml import etree

from klaspoort.roster import las_fetch, services, uwlr
from klaspoort.roster.edexml import UWLR_NS
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import LasSystem, Pupil, RosterCoupling, RosterImport
from klaspoort.roster.secrets import seal_text
from klaspoort.schools.selectors import current_school_year
from tests.factories import CoordinatorFactory, SchoolFactory
from tests.roster.test_uwlr import fault11, fault12, needs_schemas, schema_errors

KEY = "Sleutel-ParnasSys-8c41f2"
REAL_ANSWER = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-rosters"
               / "magister-uwlr-2.3_leerlinggegevens_antwoord.soap.xml")
needs_real_answer = pytest.mark.skipif(not REAL_ANSWER.is_file(),
                                       reason=f"{REAL_ANSWER} is not there")


# ---------------------------------------------------------------------------------------------
# The fake LAS
# ---------------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Without a Content-Length: the body ends when the connection closes.
    chunked: bool = False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class FakeLas:
    """A UWLR Leerlinggegevens endpoint. By default it checks the key and answers each school
    its generated roster as a UWLR answer; `reply` replaces that with a fixed answer."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.reply: Callable[[Received], Reply] | None = None
        self.pupils = 12
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Received(self.path, dict(self.headers), body)
                server.received.append(request)
                reply = (server.reply or server.roster_reply)(request)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunked:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                # Klaspoort may hang up first (a timeout or a refused size).
                with contextlib.suppress(OSError):
                    self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/uwlr/leerlinggegevens"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def roster_reply(self, request: Received) -> Reply:
        root = etree.fromstring(request.body)
        ns = {"a": uwlr.AUTORISATIE_NS, "l": UWLR_NS}
        if root.xpath("string(//a:autorisatiesleutel)", namespaces=ns) != KEY:
            return Reply(500, fault11("Ongeldige autorisatiesleutel"))
        brin = root.xpath("string(//l:brincode)", namespaces=ns)
        dependance = root.xpath("string(//l:dependancecode)", namespaces=ns)
        year = root.xpath("string(//l:schooljaar)", namespaces=ns)
        if not brin.startswith("99"):
            return Reply(500, fault11(f"School {brin}{dependance} is onbekend"))
        return Reply(200, as_uwlr_answer(generate_school(brin, dependance, self.pupils,
                                                         seed=3, school_year=year)))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def as_uwlr_answer(edexml: bytes) -> bytes:
    """A generated EDEXML roster as a LAS sends it: <leerlinggegevens> in the UWLR namespace,
    in a leerlinggegevens_antwoord in a SOAP 1.1 envelope."""
    roster = etree.fromstring(edexml)
    for el in roster.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{UWLR_NS}}}{el.tag}"
    roster.tag = f"{{{UWLR_NS}}}leerlinggegevens"
    envelope = etree.Element(f"{{{uwlr.SOAP11_NS}}}Envelope",
                             nsmap={"soap": uwlr.SOAP11_NS, "lg": UWLR_NS})
    body = etree.SubElement(envelope, f"{{{uwlr.SOAP11_NS}}}Body")
    etree.SubElement(body, f"{{{UWLR_NS}}}leerlinggegevens_antwoord").append(roster)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def las_server() -> Iterator[FakeLas]:
    server = FakeLas()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_waiting_between_attempts(settings):
    settings.LAS_FETCH_BACKOFF_SECONDS = 0
    settings.LAS_FETCH_ATTEMPTS = 3


@pytest.fixture
def parnassys(las_server, db) -> LasSystem:
    return LasSystem.objects.create(
        name="ParnasSys", slug="parnassys", method=LasSystem.Method.PULL,
        endpoint=las_server.url, client_code="KLASPOORT-01", client_name="Klaspoort",
        timeout_seconds=5)


def couple(school, las: LasSystem, *, key: str = KEY, active: bool = True) -> RosterCoupling:
    return RosterCoupling.objects.create(
        school=school, las=las, sealed_key=seal_text("las-key", key) if key else "",
        key_last4=key[-4:], active=active, switched_at=timezone.now())


@pytest.fixture
def coupling(school, coordinator, parnassys) -> RosterCoupling:
    return couple(school, parnassys)


def fetch(coupling: RosterCoupling, capture) -> las_fetch.FetchResult | None:
    """One fetch, with what it queues after commit (mail) really sent."""
    with capture(execute=True):
        result = las_fetch.fetch_coupling(coupling)
    coupling.refresh_from_db()
    return result


def shown_error(coupling: RosterCoupling) -> str:
    from klaspoort.roster.coupling_selectors import error_text

    return error_text(coupling.last_error)


# ---------------------------------------------------------------------------------------------
# A good answer
# ---------------------------------------------------------------------------------------------
def test_the_roster_from_the_las_becomes_an_import_of_the_coupling(
        coupling, las_server, django_capture_on_commit_callbacks):
    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and result.ok
    record = RosterImport.objects.get(pk=result.import_id)
    assert record.school == coupling.school
    assert record.source == RosterImport.Source.COUPLING
    assert record.status == RosterImport.Status.WAITING
    assert coupling.last_result == RosterCoupling.Result.OK
    assert coupling.last_import == record
    assert coupling.last_fetch_at is not None
    assert coupling.failures_in_a_row == 0 and coupling.last_error == {}
    # What the LAS received: the operation's SOAPAction and this school's request.
    (request,) = las_server.received
    assert request.headers["SOAPAction"] == '"HaalLeerlinggegevens"'
    assert request.headers["Content-Type"].startswith("text/xml")
    assert b"<lg:brincode>99ZZ</lg:brincode>" in request.body
    assert current_school_year(timezone.localdate()).encode() in request.body

    services.process_import(record.pk)
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert record.counts["pupils"]["added"] == 12


@needs_schemas
def test_every_request_sent_validates_against_the_official_schemas(
        school, parnassys, las_server, django_capture_on_commit_callbacks):
    other = SchoolFactory(brin="99YY", dependancecode="01")
    couple(school, parnassys)
    couple(other, parnassys)

    with django_capture_on_commit_callbacks(execute=True):
        las_fetch.fetch_all_couplings(1)

    assert len(las_server.received) == 2
    for request in las_server.received:
        assert schema_errors(request.body) == []


@needs_real_answer
def test_the_real_las_answer_imports_through_the_coupling_path(
        parnassys, las_server, django_capture_on_commit_callbacks):
    school = SchoolFactory(brin="99DE", dependancecode="00")
    coupling = couple(school, parnassys)
    las_server.reply = lambda request: Reply(200, REAL_ANSWER.read_bytes())

    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and result.ok
    record = RosterImport.objects.get(pk=result.import_id)
    assert record.status == RosterImport.Status.WAITING
    # The file's teachers carry the e-mail address "email": dropped with a warning each.
    assert len(record.warnings) == 6
    services.process_import(record.pk)
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert {kind: record.counts[kind]["added"] for kind in ("groups", "pupils", "teachers")
            } == {"groups": 10, "pupils": 22, "teachers": 6}


def test_an_answer_of_another_school_is_refused_like_an_upload(
        coupling, las_server, django_capture_on_commit_callbacks):
    las_server.reply = lambda request: Reply(200, as_uwlr_answer(
        generate_school("12AB", "00", 5, school_year=current_school_year(timezone.localdate()))))

    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and not result.ok
    record = coupling.last_import
    assert record is not None and record.status == RosterImport.Status.FAILED
    assert "12AB00" in record.errors[0]["message"]
    assert shown_error(coupling) == (
        "De gebruikersgegevens van ParnasSys konden niet worden ingelezen. In de geschiedenis "
        "van de imports zie je waarom.")
    assert not Pupil.objects.filter(school=coupling.school).exists()


def test_an_answer_that_would_empty_the_school_is_held_and_mails_the_coordinators(
        coupling, las_server, django_capture_on_commit_callbacks):
    las_server.pupils = 40
    services.process_import(fetch(coupling, django_capture_on_commit_callbacks).import_id)
    assert Pupil.objects.filter(school=coupling.school, active=True).count() == 40
    las_server.pupils = 2
    mail.outbox.clear()

    result = fetch(coupling, django_capture_on_commit_callbacks)

    record = RosterImport.objects.get(pk=result.import_id)
    assert record.status == RosterImport.Status.HELD
    (message,) = mail.outbox
    assert message.to == ["ict@regenboog.example"]
    assert message.subject == "Klaspoort houdt de gebruikersgegevens van ParnasSys vast"
    assert f"/gebruikersgegevens/{record.pk}/" in message.body
    services.process_import(record.pk)
    assert Pupil.objects.filter(school=coupling.school, active=True).count() == 40


def test_an_unchanged_answer_is_a_good_night_without_an_import(
        coupling, las_server, django_capture_on_commit_callbacks):
    las_server.reply = lambda request: Reply(200, (
        f'<s:Envelope xmlns:s="{uwlr.SOAP11_NS}"><s:Body><a:leerlinggegevens_antwoord '
        f'xmlns:a="{UWLR_NS}"><a:geenwijzigingen/></a:leerlinggegevens_antwoord></s:Body>'
        "</s:Envelope>").encode())

    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and result.ok and result.import_id is None
    assert coupling.last_result == RosterCoupling.Result.OK
    assert not RosterImport.objects.exists()


# ---------------------------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------------------------
def test_a_wrong_key_gets_its_dutch_message_without_trying_again(
        school, coordinator, parnassys, las_server, django_capture_on_commit_callbacks):
    coupling = couple(school, parnassys, key="verkeerde-sleutel")

    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and not result.ok
    assert len(las_server.received) == 1  # a fault is the LAS's last word, even with HTTP 500
    assert coupling.last_result == RosterCoupling.Result.FAILED
    assert coupling.failures_in_a_row == 1
    assert shown_error(coupling).startswith(
        "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys.")
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize("reply", [
    Reply(500, fault11("School 99ZZ00 is onbekend")),
    Reply(500, fault12("Unknown school 99ZZ00")),
    Reply(200, (f'<s:Envelope xmlns:s="{uwlr.SOAP11_NS}"><s:Body><a:leerlinggegevens_antwoord '
                f'xmlns:a="{UWLR_NS}"><a:geengegevens/></a:leerlinggegevens_antwoord></s:Body>'
                "</s:Envelope>").encode()),
])
def test_an_unknown_school_is_said_naming_the_school(
        coupling, las_server, reply, django_capture_on_commit_callbacks):
    las_server.reply = lambda request: reply

    fetch(coupling, django_capture_on_commit_callbacks)

    assert coupling.last_error["category"] == uwlr.Category.UNKNOWN_SCHOOL
    assert shown_error(coupling).startswith("ParnasSys ")
    assert "99ZZ00" in shown_error(coupling)


def test_a_server_error_is_tried_again_and_then_reported(
        coupling, las_server, django_capture_on_commit_callbacks):
    las_server.reply = lambda request: Reply(500, b"<html>Internal Server Error</html>")

    fetch(coupling, django_capture_on_commit_callbacks)

    assert len(las_server.received) == 3
    assert shown_error(coupling) == (
        "ParnasSys antwoordde met HTTP-fout 500. Klaspoort probeert het de volgende nacht "
        "opnieuw.")


def test_a_server_error_that_passes_is_a_good_night(
        coupling, las_server, django_capture_on_commit_callbacks):
    replies = iter([Reply(503, b"busy")])
    las_server.reply = lambda request: next(replies, None) or las_server.roster_reply(request)

    result = fetch(coupling, django_capture_on_commit_callbacks)

    assert result is not None and result.ok
    assert len(las_server.received) == 2


def test_a_las_that_does_not_answer_in_time_is_given_up(
        coupling, las_server, settings, django_capture_on_commit_callbacks):
    settings.LAS_FETCH_ATTEMPTS = 2
    LasSystem.objects.filter(pk=coupling.las_id).update(timeout_seconds=1)
    las_server.reply = lambda request: Reply(200, b"", delay=2.5)

    started = time.monotonic()
    fetch(coupling, django_capture_on_commit_callbacks)

    assert time.monotonic() - started < 4.5
    assert len(las_server.received) == 2
    assert shown_error(coupling) == (
        "ParnasSys gaf geen antwoord binnen 1 seconden (2 pogingen). Klaspoort probeert het de "
        "volgende nacht opnieuw.")


def test_a_las_that_cannot_be_reached_is_reported(
        coupling, las_server, django_capture_on_commit_callbacks):
    las_server.stop()

    fetch(coupling, django_capture_on_commit_callbacks)

    assert coupling.last_error["category"] == las_fetch.UNREACHABLE
    assert shown_error(coupling).startswith("Klaspoort kon geen verbinding maken met ParnasSys")


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_larger_than_an_upload_is_not_read(
        coupling, las_server, settings, chunked, django_capture_on_commit_callbacks):
    settings.ROSTER_MAX_UPLOAD_BYTES = 4096
    las_server.reply = lambda request: Reply(200, b"<x>" + b"a" * 100_000 + b"</x>",
                                             chunked=chunked)

    fetch(coupling, django_capture_on_commit_callbacks)

    assert coupling.last_error["category"] == las_fetch.TOO_LARGE
    assert len(las_server.received) == 1
    assert not RosterImport.objects.exists()


def test_a_redirect_is_not_followed(coupling, las_server, django_capture_on_commit_callbacks):
    las_server.reply = lambda request: (
        Reply(302, headers={"Location": las_server.url + "/elders"})
        if request.path.endswith("leerlinggegevens") else las_server.roster_reply(request))

    fetch(coupling, django_capture_on_commit_callbacks)

    assert [r.path for r in las_server.received] == ["/uwlr/leerlinggegevens"]
    assert coupling.last_error["category"] == las_fetch.REDIRECT
    assert not RosterImport.objects.exists()


def test_in_production_only_https_is_fetched(
        coupling, las_server, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(las_fetch, "is_production", lambda: True)

    fetch(coupling, django_capture_on_commit_callbacks)

    assert las_server.received == []
    assert coupling.last_error["category"] == las_fetch.INSECURE


def test_a_las_that_needs_a_key_is_not_called_without_one(
        school, parnassys, las_server, django_capture_on_commit_callbacks):
    coupling = couple(school, parnassys, key="")

    fetch(coupling, django_capture_on_commit_callbacks)

    assert las_server.received == []
    assert shown_error(coupling).startswith("Er is geen autorisatiesleutel voor ParnasSys.")


def test_three_failures_in_a_row_mail_the_coordinators_once(
        school, coordinator, parnassys, las_server, django_capture_on_commit_callbacks):
    second = CoordinatorFactory(school=school, email="directie@regenboog.example")
    coupling = couple(school, parnassys, key="verkeerde-sleutel")

    for night in range(1, 5):
        fetch(coupling, django_capture_on_commit_callbacks)
        assert coupling.failures_in_a_row == night
        assert len(mail.outbox) == (0 if night < 3 else 2)

    assert sorted(m.to[0] for m in mail.outbox) == [second.email, coordinator.email]
    message = mail.outbox[0]
    assert message.subject == "Klaspoort kon de gebruikersgegevens niet ophalen bij ParnasSys"
    assert "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys." in message.body
    assert "drie nachten achter elkaar" in message.body
    assert KEY not in message.body and "verkeerde-sleutel" not in message.body

    # A good night starts the count again.
    RosterCoupling.objects.filter(pk=coupling.pk).update(sealed_key=seal_text("las-key", KEY))
    fetch(coupling, django_capture_on_commit_callbacks)
    assert coupling.failures_in_a_row == 0 and coupling.last_result == RosterCoupling.Result.OK


@pytest.mark.parametrize("change", [
    {"active": False},
])
def test_a_coupling_that_is_switched_off_is_never_fetched(
        coupling, las_server, change, django_capture_on_commit_callbacks):
    RosterCoupling.objects.filter(pk=coupling.pk).update(**change)

    assert fetch(coupling, django_capture_on_commit_callbacks) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert las_fetch.fetch_all_couplings(1)["fetched"] == 0

    assert las_server.received == []
    assert coupling.last_fetch_at is None


@pytest.mark.parametrize("change", [{"active": False}, {"method": LasSystem.Method.PUSH}])
def test_a_las_that_is_inactive_or_pushes_is_never_fetched(
        coupling, las_server, change, django_capture_on_commit_callbacks):
    LasSystem.objects.filter(pk=coupling.las_id).update(**change)

    assert fetch(coupling, django_capture_on_commit_callbacks) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert las_fetch.fetch_all_couplings(1)["fetched"] == 0

    assert las_server.received == []


def test_the_key_is_never_logged_nor_stored_with_the_import(
        coupling, las_server, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    # The LAS even repeats the key in its error: it is taken out before anything is stored.
    replies = iter([Reply(500, fault11(f"Fout bij sleutelverwerking {KEY}", code="soap:Server",
                                       detail=KEY))])
    las_server.reply = lambda request: next(replies, None) or las_server.roster_reply(request)

    fetch(coupling, django_capture_on_commit_callbacks)
    assert KEY not in json.dumps(coupling.last_error)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("nightly", stdout=io.StringIO())

    # The key really went to the LAS: the test has teeth.
    assert all(KEY.encode() in r.body for r in las_server.received)
    assert caplog.records and KEY not in caplog.text
    for record in RosterImport.objects.all():
        assert KEY not in json.dumps(model_to_dict(record), default=str)
    coupling.refresh_from_db()
    assert KEY not in json.dumps(coupling.last_error) and KEY not in coupling.sealed_key


# ---------------------------------------------------------------------------------------------
# The night
# ---------------------------------------------------------------------------------------------
def test_the_night_fetches_and_then_processes(
        coupling, las_server, django_capture_on_commit_callbacks):
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("nightly", stdout=out)

    assert out.getvalue().splitlines() == [
        "1 coupling(s) fetched, 0 failed, 1 import(s) received",
        "1 import(s) processed, 0 failed, 0 held for confirmation",
    ]
    coupling.refresh_from_db()
    record = coupling.last_import
    assert record is not None and record.status == RosterImport.Status.PROCESSED
    assert record.source == RosterImport.Source.COUPLING
    assert record.counts["pupils"] == {"added": 12, "changed": 0, "deactivated": 0}
    assert Pupil.objects.filter(school=coupling.school, active=True).count() == 12


def test_the_night_without_fetching(coupling, las_server, django_capture_on_commit_callbacks):
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("nightly", "--no-fetch", stdout=out)

    assert las_server.received == []
    assert out.getvalue().strip() == "0 import(s) processed, 0 failed, 0 held for confirmation"


def test_a_failing_fetch_never_stops_the_nights_processing(
        coupling, las_server, school_file, monkeypatch, django_capture_on_commit_callbacks):
    waiting = services.receive_roster_file(school_file(pupils=5),
                                           source=RosterImport.Source.UPLOAD,
                                           school=coupling.school)

    def broken(*args, **kwargs):
        raise RuntimeError("the network is gone")

    monkeypatch.setattr(las_fetch, "_post", broken)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("nightly", stdout=out)

    waiting.refresh_from_db()
    assert waiting.status == RosterImport.Status.PROCESSED
    assert "1 coupling(s) fetched, 1 failed" in out.getvalue()


def test_the_celery_task_fetches_and_then_processes(
        coupling, las_server, django_capture_on_commit_callbacks):
    from klaspoort.roster import tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.nightly_run.delay().get() == 1

    coupling.refresh_from_db()
    assert coupling.last_import.status == RosterImport.Status.PROCESSED


def test_fetch_workers_must_be_positive(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--fetch-workers"):
        call_command("nightly", "--fetch-workers", "0", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_many_couplings_are_fetched_side_by_side(shared_database, las_server):
    las = LasSystem.objects.create(
        name="ParnasSys", slug="parnassys", method=LasSystem.Method.PULL,
        endpoint=las_server.url, client_code="KLASPOORT-01", client_name="Klaspoort",
        timeout_seconds=10)
    schools = [SchoolFactory(brin=f"99A{chr(65 + n)}") for n in range(5)]
    for school in schools:
        couple(school, las)
    couple(SchoolFactory(brin="12XY"), las)  # unknown to the LAS
    couple(SchoolFactory(brin="99QQ"), las, active=False)
    las_server.pupils = 4

    counts = las_fetch.fetch_all_couplings(3)

    assert counts == {"fetched": 6, "ok": 5, "failed": 1, "imported": 5, "held": 0}
    assert len(las_server.received) == 6
    assert RosterImport.objects.filter(status=RosterImport.Status.WAITING,
                                       source=RosterImport.Source.COUPLING).count() == 5


def test_the_night_fetches_every_coupling_whatever_the_database(
        school, parnassys, las_server, django_capture_on_commit_callbacks):
    """Inside the test's transaction (and on an in-memory database) the couplings are fetched
    one after the other: another thread could not see the rows."""
    couple(school, parnassys)
    couple(SchoolFactory(brin="99YY"), parnassys)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("nightly", "--fetch-workers", "4", stdout=out)

    assert out.getvalue().splitlines()[0] == (
        "2 coupling(s) fetched, 0 failed, 2 import(s) received")
    assert RosterImport.objects.filter(status=RosterImport.Status.PROCESSED).count() == 2
