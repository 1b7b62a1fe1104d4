"""Webhook notices for the publisher feed (issue 13 item 5, decision 0034).

A publisher's admin registers one URL. When its feed advances (exchange.signals.feed_advanced),
Klaspoort POSTs a small signed notice there: *there are events up to sequence N*. The notice
carries no personal data and not the events: the feed (GET /api/publisher/v1/changes) stays the
source of truth, and a publisher that misses a notice loses nothing but a few minutes.

One notice per publisher is in flight at a time (the Webhook row): while it waits or is being
retried, a newer sequence updates it. Delivery (a Celery task) claims the notice in a short
transaction, sends it outside any transaction (a slow receiver never holds a database lock),
and records the outcome: delivered, or the next attempt after an exponential backoff, or
*failed* after MAX_ATTEMPTS attempts or GIVE_UP_AFTER.

The signing secret is stored encrypted (roster.secrets.seal_text) and shown once; it is never
logged and never part of an audit entry.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.checks import is_production
from klaspoort.exchange.models import Webhook, WebhookDelivery
from klaspoort.roster.secrets import open_text, seal_text, sealed_with_current_key
from klaspoort.schools.models import Publisher

logger = logging.getLogger(__name__)

SECRET_PURPOSE = "exchange-webhook"  # noqa: S105 — a label, not a secret
SECRET_PREFIX = "whsec_"  # noqa: S105 — a label, not a secret
MAX_URL_LENGTH = 500
# Seconds: a receiver answers at once and does its work later (the docs say so).
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
# Backoff after the n-th failed attempt: 1, 2, 4, … minutes, at most an hour; given up after
# MAX_ATTEMPTS attempts or GIVE_UP_AFTER since the first attempt, whichever comes first.
FIRST_DELAY = datetime.timedelta(minutes=1)
MAX_DELAY = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 30
GIVE_UP_AFTER = datetime.timedelta(hours=24)
# A claimed attempt blocks another worker this long (longer than any request may take), so a
# notice is never sent twice at once; a worker that dies mid-attempt is retried after it.
CLAIM_LEASE = datetime.timedelta(minutes=2)
LOG_SIZE = 50
NOTICE_TYPE = "changes.available"
SIGNATURE_HEADER = "Klaspoort-Signature"
ID_HEADER = "Klaspoort-Notice-Id"
USER_AGENT = "Klaspoort-Webhooks/1"

Error = WebhookDelivery.Error
Status = Webhook.Status


# --- the URL -------------------------------------------------------------------------------

_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names by itself, also in the old IPv4 forms the resolver still
    accepts ("2130706433", "127.1", "0x7f.0.0.1" are all 127.0.0.1)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global is False for private, loopback, link-local (169.254/16: cloud metadata),
    # shared (100.64/10), reserved and unspecified addresses.
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_global) and not address.is_multicast


def clean_url(value: str) -> str:
    """RULE: a webhook URL is https, with a host and without credentials; plain http only to
    this machine (localhost, 127.0.0.1, ::1) while Klaspoort is not in production (a
    developer's receiver). In production an address that is an IP literal must be public:
    no private, loopback, link-local or reserved address (Klaspoort must not be made to post
    into its own network). Raises ValidationError with the reason in the user's language."""
    url = (value or "").strip()
    if not url:
        raise ValidationError(_("Enter the address of your webhook."), code="required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(_("The address is too long (at most 500 characters)."),
                              code="max_length")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise ValidationError(_("The address may not contain spaces or control characters."),
                              code="invalid")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 — a port that is not a number raises here
    except ValueError:
        raise ValidationError(_("This is not a valid web address."), code="invalid") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValidationError(_("Enter a full address that begins with https://."),
                              code="invalid")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(_("The address may not contain a user name or password. "
                                "Klaspoort signs every notice instead."), code="credentials")
    if "%" in host:  # an IPv6 zone (fe80::1%eth0) only means something on this machine
        raise ValidationError(_("This is not a valid web address."), code="invalid")
    if parts.fragment:
        raise ValidationError(_("The address may not contain a # part."), code="fragment")
    production = is_production()
    local = host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost")
    if parts.scheme.lower() == "http" and (production or not local):
        raise ValidationError(_("The address must begin with https://: notices are sent "
                                "only over a secure connection."), code="https")
    if production:
        literal = _ip_literal(host)
        if local or (literal is not None and not _is_public(literal)):
            raise ValidationError(_("This address is in a private or local network. Enter "
                                    "an address that can be reached from the internet."),
                                  code="private")
    return url


# --- registering, rotating, removing ---------------------------------------------------------

def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_of(webhook: Webhook) -> str:
    """The plain signing secret (ValueError when its key is no longer configured)."""
    return open_text(SECRET_PURPOSE, webhook.sealed_secret)


def webhook_of(publisher: Publisher) -> Webhook | None:
    return Webhook.objects.filter(publisher=publisher).first()


@transaction.atomic
def save_url(publisher: Publisher, url: str, *, actor: Actor,
             request: HttpRequest | None = None) -> tuple[Webhook, str | None]:
    """RULE: a publisher has at most one webhook URL. Registering the first one makes a
    signing secret, returned in plain once (and then only kept encrypted); changing the URL
    keeps the secret (None is returned for it). The URL must pass clean_url. Audited (the
    URL, never the secret)."""
    url = clean_url(url)
    webhook = Webhook.objects.select_for_update().filter(publisher=publisher).first()
    if webhook is None:
        plain = _new_secret()
        webhook = Webhook.objects.create(publisher=publisher, url=url,
                                         sealed_secret=seal_text(SECRET_PURPOSE, plain))
        record(actor=actor, school=None, action=AuditAction.EXCHANGE_WEBHOOK_SET,
               target=publisher.name, after={"url": url}, request=request)
        return webhook, plain
    if webhook.url != url:
        before = webhook.url
        webhook.url = url
        webhook.save(update_fields=["url"])
        record(actor=actor, school=None, action=AuditAction.EXCHANGE_WEBHOOK_SET,
               target=publisher.name, before={"url": before}, after={"url": url},
               request=request)
    return webhook, None


@transaction.atomic
def rotate_secret(publisher: Publisher, *, actor: Actor,
                  request: HttpRequest | None = None) -> str | None:
    """RULE: "Nieuw geheim" replaces the signing secret at once (the old one signs nothing
    from then on); the new one is returned in plain once. None when the publisher has no
    webhook. Audited without the secret."""
    webhook = Webhook.objects.select_for_update().filter(publisher=publisher).first()
    if webhook is None:
        return None
    plain = _new_secret()
    webhook.sealed_secret = seal_text(SECRET_PURPOSE, plain)
    webhook.secret_created_at = timezone.now()
    webhook.save(update_fields=["sealed_secret", "secret_created_at"])
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_WEBHOOK_SECRET,
           target=publisher.name, request=request)
    return plain


@transaction.atomic
def remove_webhook(publisher: Publisher, *, actor: Actor,
                   request: HttpRequest | None = None) -> bool:
    """RULE: removing the URL stops all notices at once, the one in flight included, and
    forgets the secret and the delivery log. False when there was none. Audited."""
    webhook = Webhook.objects.select_for_update().filter(publisher=publisher).first()
    if webhook is None:
        return False
    url = webhook.url
    webhook.delete()
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_WEBHOOK_REMOVE,
           target=publisher.name, before={"url": url}, request=request)
    return True


# --- a notice: queued when the feed advances ------------------------------------------------

def _notice_id() -> str:
    return "ntc_" + uuid.uuid4().hex


@transaction.atomic
def feed_advanced(publisher_id: int, last_sequence: int) -> bool:
    """RULE: when an active publisher's feed advances, one notice announces its newest
    sequence. While a notice is pending or being retried, the newer sequence replaces the one
    it announces (with a new notice id) and keeps its schedule; nothing more is queued.
    Returns whether a delivery should be queued now (a notice that was not already in
    flight)."""
    # A publisher switched off by the operator gets no notices (its API tokens stop too).
    webhook = Webhook.objects.select_for_update(of=("self",)).filter(
        publisher_id=publisher_id, publisher__active=True).first()
    if webhook is None or last_sequence <= webhook.delivered_sequence:
        return False
    if webhook.status == Status.PENDING and webhook.pending_sequence is not None:
        if last_sequence > webhook.pending_sequence:
            webhook.pending_sequence = last_sequence
            webhook.notice_id = _notice_id()
            webhook.save(update_fields=["pending_sequence", "notice_id"])
        # A notice whose next attempt is already due (its task was lost, or Celery runs
        # eagerly and has no later) is sent now.
        return webhook.next_attempt_at is not None and webhook.next_attempt_at <= timezone.now()
    now = timezone.now()
    webhook.status = Status.PENDING
    webhook.pending_sequence = last_sequence
    webhook.notice_id = _notice_id()
    webhook.attempts = 0
    webhook.first_attempt_at = None
    webhook.next_attempt_at = now
    webhook.save(update_fields=["status", "pending_sequence", "notice_id", "attempts",
                                "first_attempt_at", "next_attempt_at"])
    return True


# --- delivering -------------------------------------------------------------------------------

def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8 … minutes, at most
    MAX_DELAY."""
    if attempts < 1:
        return datetime.timedelta(0)
    return min(FIRST_DELAY * (2 ** min(attempts - 1, 20)), MAX_DELAY)


def retry_schedule() -> list[datetime.timedelta]:
    """When each attempt is made, counted from the first, until the notice is given up."""
    schedule = [datetime.timedelta(0)]
    while len(schedule) < MAX_ATTEMPTS:
        following = schedule[-1] + backoff(len(schedule))
        if following >= GIVE_UP_AFTER:
            break
        schedule.append(following)
    return schedule


def notice_body(*, notice_id: str, publisher_slug: str, sequence: int,
                sent_at: datetime.datetime) -> bytes:
    """The notice: what happened (new events up to `sequence`) and where to read them. No
    personal data and no events: the publisher reads those from the feed."""
    return json.dumps({
        "type": NOTICE_TYPE,
        "id": notice_id,
        "publisher": publisher_slug,
        "sequence": sequence,
        "changes_url": f"{settings.SITE_URL}/api/publisher/v1/changes",
        "sent_at": sent_at.astimezone(datetime.UTC).isoformat(timespec="seconds").replace(
            "+00:00", "Z"),
    }, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<raw body>" under the secret, in hex."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


@dataclass(frozen=True)
class _Claim:
    publisher_id: int
    url: str
    secret: str | None
    notice_id: str
    sequence: int
    attempt: int
    slug: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


@transaction.atomic
def _claim(publisher_id: int, now: datetime.datetime) -> _Claim | None:
    webhook = (Webhook.objects.select_for_update(of=("self",)).select_related("publisher")
               .filter(publisher_id=publisher_id).first())
    if webhook is None or webhook.status != Status.PENDING or webhook.pending_sequence is None:
        return None
    if webhook.next_attempt_at is not None and webhook.next_attempt_at > now:
        return None
    try:
        secret: str | None = secret_of(webhook)
    except ValueError:
        secret = None
    fields = ["attempts", "next_attempt_at", "first_attempt_at"]
    if secret is not None and not sealed_with_current_key(webhook.sealed_secret):
        # The keys were rotated (decision 0009): re-sealed under the current key, so the old
        # key can be removed without losing the secret.
        webhook.sealed_secret = seal_text(SECRET_PURPOSE, secret)
        fields.append("sealed_secret")
    webhook.attempts += 1
    webhook.first_attempt_at = webhook.first_attempt_at or now
    webhook.next_attempt_at = now + CLAIM_LEASE
    webhook.save(update_fields=fields)
    return _Claim(webhook.publisher_id, webhook.url, secret, webhook.notice_id,
                  webhook.pending_sequence, webhook.attempts, webhook.publisher.slug)


def _address_refused(url: str) -> bool:
    """In production every address the host name resolves to must be public (a name may
    point into a private network even when its URL passed clean_url)."""
    if not is_production():
        return False
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # requests reports the failed lookup as a connection error
    for info in infos:
        literal = _ip_literal(str(info[4][0]).split("%")[0])
        if literal is None or not _is_public(literal):
            return True
    return False


def _send(claim: _Claim, now: datetime.datetime) -> Outcome:
    if claim.secret is None:
        return Outcome(error=Error.SECRET)
    if _address_refused(claim.url):
        return Outcome(error=Error.ADDRESS)
    body = notice_body(notice_id=claim.notice_id, publisher_slug=claim.slug,
                       sequence=claim.sequence, sent_at=now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        ID_HEADER: claim.notice_id,
        SIGNATURE_HEADER: signature_header(claim.secret, int(time.time()), body),
    }
    started = time.monotonic()
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy or .netrc from the environment
            response = session.post(claim.url, data=body, headers=headers,
                                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                                    allow_redirects=False, stream=True)
            response.close()  # the answer's body is not read: only its status counts
    except requests.exceptions.Timeout:
        return Outcome(error=Error.TIMEOUT, duration_ms=_since(started))
    except requests.exceptions.SSLError:
        return Outcome(error=Error.TLS, duration_ms=_since(started))
    except requests.exceptions.ConnectionError:
        return Outcome(error=Error.CONNECT, duration_ms=_since(started))
    except (requests.exceptions.RequestException, ValueError):
        return Outcome(error=Error.OTHER, duration_ms=_since(started))
    duration = _since(started)
    code = response.status_code
    if 300 <= code < 400:
        return Outcome(status_code=code, error=Error.REDIRECT, duration_ms=duration)
    if not 200 <= code < 300:
        return Outcome(status_code=code, error=Error.STATUS, duration_ms=duration)
    return Outcome(status_code=code, duration_ms=duration)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _settle(claim: _Claim, outcome: Outcome, now: datetime.datetime) -> datetime.datetime | None:
    webhook = Webhook.objects.select_for_update().filter(publisher_id=claim.publisher_id).first()
    if webhook is None:
        return None  # removed while the notice was on its way
    WebhookDelivery.objects.create(
        webhook=webhook, notice_id=claim.notice_id, sequence=claim.sequence,
        attempt=claim.attempt, attempted_at=now, status_code=outcome.status_code,
        error=outcome.error, duration_ms=outcome.duration_ms, delivered=outcome.delivered)
    old = list(WebhookDelivery.objects.filter(webhook=webhook)
               .order_by("-attempted_at", "-id").values_list("id", flat=True)[LOG_SIZE:])
    if old:
        WebhookDelivery.objects.filter(id__in=old).delete()
    if outcome.delivered:
        webhook.delivered_sequence = max(webhook.delivered_sequence, claim.sequence)
        webhook.delivered_at = now
        if webhook.pending_sequence is not None and webhook.pending_sequence > claim.sequence:
            # The feed advanced while this notice was on its way: announce the newer
            # sequence at once, as a fresh notice.
            webhook.attempts, webhook.first_attempt_at = 0, None
            webhook.next_attempt_at = now
        else:
            webhook.status, webhook.pending_sequence = Status.IDLE, None
            webhook.attempts, webhook.first_attempt_at, webhook.next_attempt_at = 0, None, None
        webhook.save()
        return webhook.next_attempt_at
    first = webhook.first_attempt_at or now
    following = now + backoff(webhook.attempts)
    if webhook.attempts >= MAX_ATTEMPTS or following - first >= GIVE_UP_AFTER:
        webhook.status, webhook.pending_sequence, webhook.next_attempt_at = (
            Status.FAILED, None, None)
        webhook.save(update_fields=["status", "pending_sequence", "next_attempt_at"])
        logger.warning("webhook of publisher %s: notice %s given up after %s attempts",
                       claim.publisher_id, claim.notice_id, webhook.attempts)
        return None
    webhook.next_attempt_at = following
    webhook.save(update_fields=["next_attempt_at"])
    return following


def deliver(publisher_id: int, *, now: datetime.datetime | None = None
            ) -> datetime.datetime | None:
    """RULE: the publisher's pending notice, when due, is sent once: signed with the current
    secret and the time of sending, within CONNECT_TIMEOUT/READ_TIMEOUT, redirects not
    followed. A 2xx answer delivers it; anything else is logged (in the delivery log) and
    tried again after backoff(attempts), until MAX_ATTEMPTS attempts or GIVE_UP_AFTER, after
    which it is *failed*. No database transaction is open while the notice is on its way.
    Returns when the next attempt is due (None: nothing more to do)."""
    now = now or timezone.now()
    claim = _claim(publisher_id, now)
    if claim is None:
        return None
    outcome = _send(claim, now)
    return _settle(claim, outcome, now)


def due_publisher_ids(now: datetime.datetime | None = None) -> list[int]:
    """Publishers whose notice is due (its task was lost, or Celery runs eagerly)."""
    return list(Webhook.objects.filter(status=Status.PENDING,
                                       next_attempt_at__lte=now or timezone.now())
                .order_by("next_attempt_at").values_list("publisher_id", flat=True))


# --- for the portal ---------------------------------------------------------------------------

def recent_deliveries(webhook: Webhook) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(webhook=webhook)
                .order_by("-attempted_at", "-id")[:LOG_SIZE])
