"""Credentials of the machines that talk to Klaspoort's APIs (publishers, network providers
and pupil administrations)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from klaspoort.roster.models import LasSystem
from klaspoort.schools.models import NetworkProvider, Publisher, School


def hash_token(token: str) -> str:
    """Tokens are stored as a SHA-256 digest: they are long random strings, so a fast hash is
    enough, and a leaked table does not let anybody call the API."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """What a machine's API token is, whoever holds it: a name, the first characters shown so
    its owner can tell tokens apart, the SHA-256 digest (never the token), when it was made,
    last used and revoked."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # How this kind of token starts (kp_, kpn_), so a leaked one tells whose it is.
    START = ""

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @classmethod
    def made(cls, created_by: object = None, **owner: Any) -> tuple[Any, str]:
        """A new token for `owner`; the plain value is returned once and never stored."""
        token = cls.START + secrets.token_urlsafe(32)
        row = cls.objects.create(**owner, prefix=token[:10],  # type: ignore[attr-defined]
                                 digest=hash_token(token), created_by=created_by)
        return row, token


class PublisherApiToken(ApiToken):
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="api_tokens")

    START = "kp_"

    class Meta(ApiToken.Meta):
        verbose_name = _("publisher API token")
        verbose_name_plural = _("publisher API tokens")

    def __str__(self) -> str:
        return f"{self.publisher}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, publisher: Publisher, name: str, created_by: object = None) -> tuple[
            PublisherApiToken, str]:
        """A new token; the plain value is returned once and never stored."""
        return cls.made(created_by, publisher=publisher, name=name)


# ---------------------------------------------------------------------------------------------
# The publisher feed (issue 13, decision 0030): what each publisher has been told, and the
# events that told it. Events are derived from the difference between what a publisher sees
# now (licences.publisher_view) and what it was last told, so the feed can never contradict
# the snapshot.
# ---------------------------------------------------------------------------------------------
class FeedState(models.Model):
    """One row per publisher: the last sequence number handed out. Locked (select_for_update)
    from the moment a comparison writes its events until it commits, so a publisher's events
    get consecutive numbers that become visible in order: no gap, no number seen twice. (The
    school's own row is locked for the whole comparison: decision 0040.)"""

    publisher = models.OneToOneField(Publisher, on_delete=models.CASCADE, primary_key=True,
                                     related_name="+")
    last_sequence = models.BigIntegerField(default=0)
    # The day of the last nightly comparison: the next one looks only at schools whose
    # contracts with this publisher started or ended since. None: compare every school.
    compared_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.publisher_id}: {self.last_sequence}"


class FeedEvent(models.Model):
    class Action(models.TextChoices):
        ADDED = "added", _("added")
        CHANGED = "changed", _("changed")
        DEACTIVATED = "deactivated", _("deactivated")
        REMOVED = "removed", _("removed")

    class Entity(models.TextChoices):
        SCHOOL = "school", _("school")
        GROUP = "group", _("group")
        PERSON = "person", _("person")

    id = models.BigAutoField(primary_key=True)
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="+")
    sequence = models.BigIntegerField()
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, related_name="+")
    school_ref = models.CharField(max_length=64)  # the publisher's id of the school
    entity = models.CharField(max_length=8, choices=Entity.choices)
    entity_ref = models.CharField(max_length=64)  # the publisher's id of the entity
    # Klaspoort's own key ("g:12", "u:34", "s:5"): what to redact when it leaves the view.
    local_key = models.CharField(max_length=32)
    action = models.CharField(max_length=12, choices=Action.choices)
    # The whole record for added/changed/deactivated; None for removed, and for an earlier
    # event of something that has since left the publisher's view (redacted: least data).
    record = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["publisher", "sequence"],
                                               name="feed_event_publisher_sequence")]
        indexes = [models.Index(fields=["publisher", "local_key"], name="feed_event_local")]

    def __str__(self) -> str:
        return f"{self.publisher_id}#{self.sequence} {self.entity} {self.action}"


class PendingComparison(models.Model):
    """A change that may alter what publishers see of a school, written down in the change's
    own transaction (an outbox): it commits with the change or not at all, and stays until a
    comparison of the school has committed. A crash between the two, a broker that is down or
    a comparison that failed therefore loses nothing; the next drain (at the latest the
    nightly publish_feeds task) compares it (decision 0040)."""

    id = models.BigAutoField(primary_key=True)
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    # What a roster import touched ({"group_ids": [...], "user_ids": [...]}); None: the whole
    # school (a licence, contract or consent changed).
    touched = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.school_id}: {'part' if self.touched is not None else 'whole'}"


class PublishedRecord(models.Model):
    """What a publisher was last told about one school, group or person: the view the feed's
    events add up to, and what a snapshot returns."""

    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    local_key = models.CharField(max_length=32)
    entity = models.CharField(max_length=8, choices=FeedEvent.Entity.choices)
    entity_ref = models.CharField(max_length=64)
    record = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["publisher", "local_key"],
                                               name="published_record_unique")]
        indexes = [models.Index(fields=["publisher", "school"], name="published_school"),
                   models.Index(fields=["publisher", "entity_ref"], name="published_ref")]

    def __str__(self) -> str:
        return f"{self.publisher_id}: {self.local_key}"

class NetworkProviderApiToken(ApiToken):
    """A network provider's key to the network provider API (decision 0032). Made and revoked
    by an operator (`klaspoort network-token`, the admin); kept as a digest like a publisher's
    token, and told apart from one by its `kpn_` start."""

    provider = models.ForeignKey(NetworkProvider, on_delete=models.CASCADE,
                                 related_name="api_tokens")

    START = "kpn_"

    class Meta(ApiToken.Meta):
        verbose_name = _("network provider API token")
        verbose_name_plural = _("network provider API tokens")

    def __str__(self) -> str:
        return f"{self.provider}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, provider: NetworkProvider, name: str, created_by: object = None) -> tuple[
            NetworkProviderApiToken, str]:
        """A new token; the plain value is returned once and never stored."""
        return cls.made(created_by, provider=provider, name=name)


class LasApiToken(ApiToken):
    """A pupil administration's (LAS) key to the push API (issue 14): with it the LAS sends
    the rosters of the schools whose coordinator switched that LAS on. Made and revoked by an
    operator (`klaspoort las-token`, the admin); kept as a digest, and told apart from the
    other kinds by its `kpl_` start."""

    las = models.ForeignKey(LasSystem, on_delete=models.CASCADE, related_name="api_tokens")

    START = "kpl_"

    class Meta(ApiToken.Meta):
        verbose_name = _("LAS API token")
        verbose_name_plural = _("LAS API tokens")

    def __str__(self) -> str:
        return f"{self.las}: {self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, las: LasSystem, name: str, created_by: object = None) -> tuple[
            LasApiToken, str]:
        """A new token; the plain value is returned once and never stored."""
        return cls.made(created_by, las=las, name=name)


# ---------------------------------------------------------------------------------------------
# OneRoster 1.2 (issue 13, decision 0033): OAuth 2.0 client credentials, as the 1EdTech
# security framework asks. A publisher makes a client in the portal; its software trades the
# client's id and secret for short-lived bearer tokens. Secrets and tokens are long random
# strings, kept only as their SHA-256 digest (hash_token).
# ---------------------------------------------------------------------------------------------
class OneRosterClient(models.Model):
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE,
                                  related_name="oneroster_clients")
    name = models.CharField(_("name"), max_length=100)
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("OneRoster client")
        verbose_name_plural = _("OneRoster clients")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.name} ({self.client_id})"

    @classmethod
    def issue(cls, publisher: Publisher, name: str, created_by: object = None) -> tuple[
            OneRosterClient, str]:
        """A new client; its secret is returned once and never stored."""
        secret = "ors_" + secrets.token_urlsafe(32)
        row = cls.objects.create(publisher=publisher, name=name,
                                 client_id="or_" + secrets.token_urlsafe(18),
                                 secret_digest=hash_token(secret), created_by=created_by)
        return row, secret


class OneRosterAccessToken(models.Model):
    """A bearer token handed out by the token endpoint: valid until expires_at, for the scopes
    granted (space-separated), and never after its client is revoked."""

    client = models.ForeignKey(OneRosterClient, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.client_id}: {self.scope}"


# ---------------------------------------------------------------------------------------------
# Webhook notices (issue 13 item 5, decision 0034): a publisher's one URL, told (signed, no
# personal data) that its feed has new events. The feed stays the source of truth.
# ---------------------------------------------------------------------------------------------
class Webhook(models.Model):
    """A publisher's webhook, and its one notice in flight: while a notice waits or is being
    retried, a newer sequence updates it (pending_sequence) instead of queueing another."""

    class Status(models.TextChoices):
        IDLE = "idle", _("up to date")
        PENDING = "pending", _("waiting to be delivered")
        FAILED = "failed", _("last notice failed")

    publisher = models.OneToOneField(Publisher, on_delete=models.CASCADE, primary_key=True,
                                     related_name="+")
    # A CharField: exchange.webhooks.clean_url is the one rule for what may go here.
    url = models.CharField(_("address"), max_length=500)
    # The signing secret, encrypted at rest (roster.secrets.seal_text); shown once, never logged.
    sealed_secret = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    secret_created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.IDLE)
    # The notice in flight: the newest sequence to announce, its id (the same on every retry
    # of the same sequence), its attempts so far and when the next one is due.
    pending_sequence = models.BigIntegerField(null=True, blank=True)
    notice_id = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_sequence = models.BigIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.publisher_id}: {self.url}"


class WebhookDelivery(models.Model):
    """One attempt to deliver a notice: the portal's delivery log (the last 50 are kept)."""

    class Error(models.TextChoices):
        TIMEOUT = "timeout", _("No answer in time")
        CONNECT = "connect", _("Could not connect")
        TLS = "tls", _("The secure connection (TLS) failed")
        REDIRECT = "redirect", _("Answered with a redirect, which is not followed")
        STATUS = "status", _("Answered with an error status")
        ADDRESS = "address", _("The address leads to a private network and is refused")
        SECRET = "secret", _("The signing secret can no longer be read: make a new secret")
        OTHER = "other", _("Sending failed")

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    notice_id = models.CharField(max_length=40)
    sequence = models.BigIntegerField()
    attempt = models.PositiveIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=12, choices=Error.choices, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    delivered = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["webhook", "-id"], name="webhook_delivery_recent")]

    def __str__(self) -> str:
        return f"{self.notice_id} #{self.attempt}: {self.status_code or self.error}"
