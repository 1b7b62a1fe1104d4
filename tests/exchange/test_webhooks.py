"""Webhook notices for the publisher feed (issue 13 item 5, decision 0034): a publisher's admin
registers one URL in the portal; when its feed advances, Klaspoort posts a signed notice (no
personal data) to a real HTTP server on 127.0.0.1, retries with backoff, and logs each attempt."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.exchange import tasks, webhooks
from klaspoort.exchange.models import FeedState, Webhook, WebhookDelivery
from klaspoort.exchange.signals import feed_advanced
from klaspoort.licences.models import PublisherMembership
from klaspoort.pseudonyms import subject_for
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Pupil, Teacher
from klaspoort.roster.secrets import open_text, seal_text
from klaspoort.roster.services import apply_roster
from klaspoort.schools.services import set_publisher_consents
from tests.concurrency import at_once
from tests.factories import PASSWORD, UserFactory
from tests.licences.factories import (
    ContractFactory,
    ProductFactory,
    PublisherFactory,
    PublisherMemberFactory,
)

pytestmark = pytest.mark.django_db


# --- a publisher's receiving server ------------------------------------------------------------

class Receiver:
    """A real HTTP server in a thread on 127.0.0.1: records every notice and answers with the
    next planned answer (status, delay in seconds, Location), then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.plan: list[tuple[int, float, str]] = []
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, status: int, delay: float = 0.0, location: str = "") -> None:
        self.plan.append((status, delay, location))

    def next_answer(self) -> tuple[int, float, str]:
        with self.lock:
            return self.plan.pop(0) if self.plan else (200, 0.0, "")

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver():
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            box.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, delay, location = box.next_answer()
            time.sleep(delay)
            try:
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting (the timeout test)

        def do_GET(self):  # a followed redirect would arrive here
            box.received.append(({"followed": "yes"}, b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/klaspoort/webhook"
    yield box
    server.shutdown()
    server.server_close()


# --- the publisher and its admins -------------------------------------------------------------

@pytest.fixture
def publisher():
    return PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def admin_client(publisher):
    return signed_in(PublisherMemberFactory(publisher=publisher,
                                            role=PublisherMembership.Role.ADMIN).user)


def page(publisher, name="webhook"):
    return reverse(f"exchange:{name}", kwargs={"slug": publisher.slug})


SECRET_RE = re.compile(r'value="(whsec_[A-Za-z0-9_-]+)"')


def register(client, publisher, url) -> str:
    """Register through the portal; the secret the page shows (once)."""
    response = client.post(page(publisher), {"url": url})
    assert response.status_code == 200, response.content.decode()
    found = SECRET_RE.search(response.content.decode())
    assert found, "the new secret is shown"
    return found.group(1)


def advance(publisher, sequence):
    """The feed says it advanced (as exchange.feed does after commit)."""
    feed_advanced.send(sender=FeedState, publisher_id=publisher.pk, last_sequence=sequence)


def verify(headers: dict[str, str], body: bytes, secret: str, tolerance=300) -> bool:
    """What a publisher does with a notice (as docs/webhooks.md shows)."""
    parts = dict(item.split("=", 1) for item in headers["klaspoort-signature"].split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def due_now(publisher):
    """Time passes until the next attempt (the notice's schedule, moved into the past)."""
    Webhook.objects.filter(publisher=publisher).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


# --- registering ------------------------------------------------------------------------------

def test_admin_registers_a_url_and_sees_the_secret_once_stored_encrypted(
        admin_client, publisher, receiver):
    secret = register(admin_client, publisher, receiver.url)

    webhook = Webhook.objects.get(publisher=publisher)
    assert webhook.url == receiver.url
    assert secret not in webhook.sealed_secret and webhook.sealed_secret.startswith("s1:")
    assert webhooks.secret_of(webhook) == secret
    with pytest.raises(ValueError):  # bound to its purpose: it opens as nothing else
        open_text("another-purpose", webhook.sealed_secret)
    again = admin_client.get(page(publisher))
    assert again.status_code == 200
    assert secret not in again.content.decode()
    assert "no-store" in again["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.EXCHANGE_WEBHOOK_SET)
    assert receiver.url in json.dumps(entry.after) and secret not in json.dumps(entry.after)


def test_a_notice_is_signed_with_the_shown_secret_and_the_time(admin_client, publisher,
                                                                receiver):
    secret = register(admin_client, publisher, receiver.url)

    advance(publisher, 7)

    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert verify(headers, body, secret)
    assert not verify(headers, body, "whsec_wrong")
    assert not verify(headers, body + b" ", secret)  # the raw body is what is signed
    notice = json.loads(body)
    assert notice["type"] == "changes.available"
    assert notice["publisher"] == "zonnebloem" and notice["sequence"] == 7
    assert headers["klaspoort-notice-id"] == notice["id"]
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["klaspoort-signature"].split(",")[0][2:]) - time.time()) < 60
    webhook = Webhook.objects.get(publisher=publisher)
    assert webhook.status == Webhook.Status.IDLE and webhook.delivered_sequence == 7
    shown = admin_client.get(page(publisher)).content.decode()
    assert "Afgeleverd (200)" in shown


def test_the_secret_never_reaches_the_log(admin_client, publisher, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    secret = register(admin_client, publisher, receiver.url)
    receiver.answer(500)
    advance(publisher, 3)
    assert secret not in caplog.text
    assert secret not in json.dumps(list(AuditEntry.objects.values("before", "after")))


def test_a_new_secret_signs_from_then_on_and_the_old_one_no_longer(admin_client, publisher,
                                                                     receiver):
    old = register(admin_client, publisher, receiver.url)
    response = admin_client.post(page(publisher, "webhook_new_secret"), {"confirmed": "1"})
    assert response.status_code == 200
    new = SECRET_RE.search(response.content.decode()).group(1)
    assert new != old

    advance(publisher, 2)

    headers, body = receiver.received[0]
    assert verify(headers, body, new) and not verify(headers, body, old)
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_WEBHOOK_SECRET).count() == 1


def test_changing_the_url_keeps_the_secret(admin_client, publisher, receiver):
    secret = register(admin_client, publisher, "https://hooks.zonnebloem.example/kp")
    response = admin_client.post(page(publisher), {"url": receiver.url})
    assert response.status_code == 302
    advance(publisher, 4)
    headers, body = receiver.received[0]
    assert verify(headers, body, secret)


def test_a_removed_webhook_gets_no_more_notices(admin_client, publisher, receiver):
    register(admin_client, publisher, receiver.url)
    response = admin_client.post(page(publisher, "webhook_remove"), {"confirmed": "1"})
    assert response.status_code == 302
    assert not Webhook.objects.filter(publisher=publisher).exists()

    advance(publisher, 9)

    assert receiver.received == []
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_WEBHOOK_REMOVE).count() == 1
    assert "Webhook-adres" in admin_client.get(page(publisher)).content.decode()


# --- the URL ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.zonnebloem.example/kp", "moet beginnen met https://"),
    ("https://gebruiker:geheim@hooks.zonnebloem.example/kp", "gebruikersnaam of wachtwoord"),
    ("ftp://hooks.zonnebloem.example/kp", "https://"),
    ("hooks.zonnebloem.example", "https://"),
    ("", "Vul het adres van je webhook in"),
    ("https://hooks.zonnebloem.example/kp#deel", "#"),
    ("https://hooks.zonnebloem.example:poort/kp", "geen geldig webadres"),
])
def test_a_bad_url_is_refused_in_dutch_and_nothing_is_saved(admin_client, publisher, url,
                                                             message):
    response = admin_client.post(page(publisher), {"url": url})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Er is iets niet goed" in response.content.decode()
    assert not Webhook.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("url", [
    "https://10.1.2.3/hook", "https://192.168.1.10/hook", "https://172.16.0.1/hook",
    "https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest",
    "https://[fe80::1]/hook", "https://[::ffff:10.0.0.1]/hook", "https://100.64.0.1/hook",
    "https://0.0.0.0/hook", "https://localhost/hook", "http://127.0.0.1:8001/hook",
    "https://2130706433/hook", "https://127.1/hook", "https://0x7f000001/hook",
    "https://[fe80::1%25eth0]/hook", "https://intranet.localhost/hook",
])
def test_in_production_private_loopback_and_link_local_addresses_are_refused(settings, url):
    settings.ALLOWED_HOSTS = ["klaspoort.nl"]
    with pytest.raises(ValidationError) as refused:
        webhooks.clean_url(url)
    assert refused.value.code in ("private", "https", "invalid")


def test_in_production_a_public_https_address_is_accepted(settings):
    settings.ALLOWED_HOSTS = ["klaspoort.nl"]
    assert webhooks.clean_url(" https://hooks.zonnebloem.example:8443/kp?x=1 ") == \
        "https://hooks.zonnebloem.example:8443/kp?x=1"
    assert webhooks.clean_url("https://145.100.1.1/kp") == "https://145.100.1.1/kp"


def test_plain_http_only_to_this_machine_outside_production():
    assert webhooks.clean_url("http://localhost:9000/hook") == "http://localhost:9000/hook"
    assert webhooks.clean_url("http://127.0.0.1:9000/hook")
    with pytest.raises(ValidationError):
        webhooks.clean_url("http://10.0.0.5/hook")


# --- delivery: retries, backoff, timeouts ------------------------------------------------------

def test_the_backoff_schedule_doubles_from_a_minute_to_an_hour_within_a_day():
    minutes = [int(step.total_seconds() // 60) for step in webhooks.retry_schedule()]
    assert minutes[:9] == [0, 1, 3, 7, 15, 31, 63, 123, 183]
    assert all(b - a == 60 for a, b in itertools.pairwise(minutes[6:]))
    assert minutes[-1] < 24 * 60 and len(minutes) <= webhooks.MAX_ATTEMPTS
    assert [webhooks.backoff(n) for n in (1, 2, 3, 7, 8, 30)] == [
        datetime.timedelta(minutes=m) for m in (1, 2, 4, 60, 60, 60)]


def test_a_500_answer_is_retried_later_with_the_same_notice_id(admin_client, publisher,
                                                                receiver):
    secret = register(admin_client, publisher, receiver.url)
    receiver.answer(500)
    before = timezone.now()

    advance(publisher, 5)

    webhook = Webhook.objects.get(publisher=publisher)
    assert len(receiver.received) == 1
    assert webhook.status == Webhook.Status.PENDING and webhook.attempts == 1
    wait = webhook.next_attempt_at - before
    assert datetime.timedelta(seconds=59) < wait < datetime.timedelta(seconds=70)
    first = WebhookDelivery.objects.get()
    assert (first.status_code, first.error, first.delivered) == (500, "status", False)

    # Run again before it is due (eagerly, or the minute sweep): nothing is sent.
    tasks.deliver_webhook_notice(publisher.pk)
    assert tasks.deliver_due_webhook_notices() == 0
    assert len(receiver.received) == 1

    due_now(publisher)
    assert tasks.deliver_due_webhook_notices() == 1

    assert len(receiver.received) == 2
    (first_headers, _b), (headers, body) = receiver.received
    assert headers["klaspoort-notice-id"] == first_headers["klaspoort-notice-id"]
    assert verify(headers, body, secret)
    webhook.refresh_from_db()
    assert webhook.status == Webhook.Status.IDLE and webhook.delivered_sequence == 5
    shown = admin_client.get(page(publisher)).content.decode()
    assert "Foutstatus (500)" in shown and "Afgeleverd (200)" in shown


def test_a_notice_that_keeps_failing_follows_the_schedule_then_fails(publisher, receiver):
    webhook = Webhook.objects.create(publisher=publisher, url=receiver.url,
                                     sealed_secret=seal_text(
                                         webhooks.SECRET_PURPOSE, "whsec_test"))
    schedule = webhooks.retry_schedule()
    for _attempt in schedule:
        receiver.answer(503)
    assert webhooks.feed_advanced(publisher.pk, 11)
    start = timezone.now()
    for offset in schedule:
        sent = len(receiver.received)
        webhooks.deliver(publisher.pk, now=start + offset - datetime.timedelta(seconds=1))
        assert len(receiver.received) == sent, "not sent before its time"
        webhooks.deliver(publisher.pk, now=start + offset)
        assert len(receiver.received) == sent + 1
    webhook.refresh_from_db()
    assert len(receiver.received) == len(schedule)
    assert webhook.status == Webhook.Status.FAILED and webhook.pending_sequence is None
    # A newer event starts a new notice.
    assert webhooks.feed_advanced(publisher.pk, 12)
    assert webhooks.deliver(publisher.pk) is None
    webhook.refresh_from_db()
    assert webhook.status == Webhook.Status.IDLE and webhook.delivered_sequence == 12


def test_notices_coalesce_while_one_is_being_retried(admin_client, publisher, receiver):
    register(admin_client, publisher, receiver.url)
    receiver.answer(500)
    advance(publisher, 5)
    advance(publisher, 8)
    advance(publisher, 6)  # out of order: never steps back
    assert len(receiver.received) == 1
    assert Webhook.objects.get(publisher=publisher).pending_sequence == 8

    due_now(publisher)
    tasks.deliver_due_webhook_notices()

    assert [notice["sequence"] for notice in receiver.bodies()] == [5, 8]
    assert receiver.bodies()[0]["id"] != receiver.bodies()[1]["id"]
    advance(publisher, 8)  # already announced
    assert len(receiver.received) == 2


def test_a_timeout_is_logged_and_retried(admin_client, publisher, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "READ_TIMEOUT", 0.3)
    register(admin_client, publisher, receiver.url)
    receiver.answer(200, delay=1.5)

    advance(publisher, 3)

    attempt = WebhookDelivery.objects.get()
    assert attempt.error == "timeout" and attempt.status_code is None
    assert 250 <= attempt.duration_ms < 1500
    assert Webhook.objects.get(publisher=publisher).status == Webhook.Status.PENDING
    assert "Geen antwoord op tijd" in admin_client.get(page(publisher)).content.decode()


def test_a_redirect_is_not_followed(admin_client, publisher, receiver):
    register(admin_client, publisher, receiver.url)
    receiver.answer(302, location="/elders")

    advance(publisher, 3)

    assert len(receiver.received) == 1  # no request to /elders
    attempt = WebhookDelivery.objects.get()
    assert (attempt.status_code, attempt.error) == (302, "redirect")


def test_a_refused_connection_is_logged_in_dutch(admin_client, publisher, receiver):
    register(admin_client, publisher, "http://127.0.0.1:9/niemand")
    advance(publisher, 3)
    assert WebhookDelivery.objects.get().error == "connect"
    assert "Geen verbinding mogelijk" in admin_client.get(page(publisher)).content.decode()


def test_the_log_keeps_the_last_50_attempts(publisher, receiver):
    Webhook.objects.create(publisher=publisher, url=receiver.url,
                           sealed_secret=seal_text(webhooks.SECRET_PURPOSE, "whsec_x"))
    for sequence in range(1, 56):
        webhooks.feed_advanced(publisher.pk, sequence)
        webhooks.deliver(publisher.pk)
    kept = WebhookDelivery.objects.order_by("sequence").values_list("sequence", flat=True)
    assert list(kept) == list(range(6, 56))


# --- no personal data, from a real feed ---------------------------------------------------------

def test_a_real_feed_advance_sends_a_notice_without_personal_data(
        admin_client, publisher, receiver, school, coordinator, school_file,
        django_capture_on_commit_callbacks):
    secret = register(admin_client, publisher, receiver.url)
    ContractFactory(school=school, product=ProductFactory(publisher=publisher, code="ZB5",
                                                          year_groups=[5]))
    with django_capture_on_commit_callbacks(execute=True):
        apply_roster(school, parse_edexml(school_file(30)))
    with django_capture_on_commit_callbacks(execute=True):
        set_publisher_consents(school, [publisher.pk], coordinator)

    state = FeedState.objects.get(publisher=publisher)
    assert state.last_sequence > 0
    notices = receiver.bodies()
    assert notices and notices[-1]["sequence"] == state.last_sequence
    headers, body = receiver.received[-1]
    assert verify(headers, body, secret)
    assert set(json.loads(body)) == {"type", "id", "publisher", "sequence", "changes_url",
                                     "sent_at"}
    text = body.decode()
    people = [*Pupil.objects.filter(school=school), *Teacher.objects.filter(school=school)]
    assert people
    for person in people:
        for value in (person.first_name, person.last_name, person.key,
                      subject_for(publisher.pk, person.user_id)):
            assert value and value not in text
    assert school.name not in text and school.brin not in text


# --- who may --------------------------------------------------------------------------------------

def test_another_publishers_admin_gets_404_and_changes_nothing(admin_client, publisher,
                                                                receiver):
    register(admin_client, publisher, receiver.url)
    before = Webhook.objects.get(publisher=publisher)
    stranger = signed_in(PublisherMemberFactory(
        publisher=PublisherFactory(name="Uitgeverij Anders", slug="anders"),
        role=PublisherMembership.Role.ADMIN).user)
    for name in ("webhook", "webhook_new_secret", "webhook_remove"):
        assert stranger.get(page(publisher, name)).status_code in (404, 405)
        assert stranger.post(page(publisher, name),
                             {"url": "https://evil.example/hook"}).status_code == 404
    after = Webhook.objects.get(publisher=publisher)
    assert (after.url, after.sealed_secret) == (before.url, before.sealed_secret)
    assert AuditEntry.objects.count() == 1


def test_the_publishers_helpdesk_may_not_manage_the_webhook(publisher):
    helpdesk = signed_in(PublisherMemberFactory(publisher=publisher,
                                                role=PublisherMembership.Role.HELPDESK).user)
    assert helpdesk.get(page(publisher)).status_code == 403
    assert helpdesk.post(page(publisher), {"url": "https://x.example/h"}).status_code == 403
    assert not Webhook.objects.exists()


def test_the_documented_verification_accepts_real_notices(admin_client, publisher, receiver):
    """docs/webhooks.md shows publishers how to verify a notice: that very code, run here."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", docs, re.S).group(1), namespace)  # noqa: S102
    documented = namespace["verify_klaspoort_notice"]
    secret = register(admin_client, publisher, receiver.url)
    advance(publisher, 3)
    headers, body = receiver.received[0]
    assert documented(secret, headers["klaspoort-signature"], body)
    assert not documented(secret, headers["klaspoort-signature"], body.replace(b"3", b"4"))
    assert not documented(secret, headers["klaspoort-signature"], body, now=time.time() + 301)
    assert not documented(secret, "v1=zonder-tijd", body)


def test_in_production_a_name_that_resolves_into_a_private_network_gets_no_notice(
        settings, publisher, monkeypatch):
    settings.ALLOWED_HOSTS = ["klaspoort.nl"]
    settings.KLASPOORT_SECRETS_KEYS = ["q1Hh3yJ0wq4i0cI3Xk5hH0mF2bH7v6Yk4c1r9tZ8s0E="]
    posted = []
    monkeypatch.setattr(webhooks.socket, "getaddrinfo",
                        lambda host, *a, **k: [(2, 1, 6, "", ("10.0.0.7", 0))])
    monkeypatch.setattr(webhooks.requests.Session, "post",
                        lambda *a, **k: posted.append(a))
    Webhook.objects.create(publisher=publisher, url="https://intern.zonnebloem.example/kp",
                           sealed_secret=seal_text(webhooks.SECRET_PURPOSE, "whsec_x"))
    webhooks.feed_advanced(publisher.pk, 4)
    webhooks.deliver(publisher.pk)
    assert posted == []
    assert WebhookDelivery.objects.get().error == "address"


def test_the_operator_sees_where_notices_go_but_never_the_secret(admin_client, publisher,
                                                                  receiver, client):
    secret = register(admin_client, publisher, receiver.url)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:exchange_webhook_changelist"))
    assert listing.status_code == 200 and receiver.url in listing.content.decode()
    detail = client.get(reverse("admin:exchange_webhook_change", args=[publisher.pk]))
    assert detail.status_code == 200
    webhook = Webhook.objects.get(publisher=publisher)
    for page_ in (listing, detail):
        assert secret not in page_.content.decode()
        assert webhook.sealed_secret not in page_.content.decode()
    assert client.post(reverse("admin:exchange_webhook_change", args=[publisher.pk]),
                       {"url": "https://evil.example/"}).status_code == 403


def test_a_new_secret_and_removing_ask_first_and_change_nothing_until_confirmed(
        admin_client, publisher, receiver):
    secret = register(admin_client, publisher, receiver.url)
    sealed = Webhook.objects.get(publisher=publisher).sealed_secret
    asked = admin_client.post(page(publisher, "webhook_new_secret")).content.decode()
    assert "Een nieuw ondertekengeheim maken?" in asked and "werkt meteen niet meer" in asked
    asked = admin_client.post(page(publisher, "webhook_remove")).content.decode()
    assert "De webhook verwijderen?" in asked and receiver.url in asked
    assert Webhook.objects.get(publisher=publisher).sealed_secret == sealed
    assert AuditEntry.objects.count() == 1
    advance(publisher, 2)
    headers, body = receiver.received[0]
    assert verify(headers, body, secret)


def test_a_publisher_switched_off_gets_no_notices(admin_client, publisher, receiver):
    register(admin_client, publisher, receiver.url)
    publisher.active = False
    publisher.save(update_fields=["active"])
    advance(publisher, 3)
    assert receiver.received == []


def test_workers_delivering_at_once_send_the_notice_once(shared_database, receiver):
    """Celery may run the same delivery twice (a retry's ETA and the minute sweep, acks_late):
    the notice is claimed before it is sent, so it reaches the publisher once."""
    publisher = PublisherFactory(name="Uitgeverij Gelijktijdig", slug="gelijktijdig")
    Webhook.objects.create(publisher=publisher, url=receiver.url,
                           sealed_secret=seal_text(webhooks.SECRET_PURPOSE, "whsec_x"))
    assert webhooks.feed_advanced(publisher.pk, 5)
    receiver.answer(200, delay=0.5)

    at_once(4, lambda _index: tasks.deliver_webhook_notice(publisher.pk))

    assert [notice["sequence"] for notice in receiver.bodies()] == [5]
    assert WebhookDelivery.objects.count() == 1
    assert Webhook.objects.get(publisher=publisher).delivered_sequence == 5
