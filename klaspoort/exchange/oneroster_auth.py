"""OneRoster 1.2 security (issue 13, decision 0033): OAuth 2.0 client credentials (RFC 6749
§4.4) as the 1EdTech security framework asks, self-contained in exchange (single sign-on's
OAuth server is sso's, which exchange may not import).

A publisher's admin makes a client in the portal; its id is public, its secret is shown once
and kept as a digest. The token endpoint trades them for a bearer token that lives
TOKEN_LIFETIME and carries the scopes granted. Klaspoort never gives demographics: the scope
is refused at the token endpoint, so no token ever carries it.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.exchange.models import OneRosterAccessToken, OneRosterClient, hash_token
from klaspoort.schools.models import Publisher

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER = SCOPE_PREFIX + "roster.readonly"
ROSTER_CORE = SCOPE_PREFIX + "roster-core.readonly"
DEMOGRAPHICS = SCOPE_PREFIX + "roster-demographics.readonly"
GRANTABLE = (ROSTER_CORE, ROSTER)
TOKEN_LIFETIME = datetime.timedelta(hours=1)
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
MAX_LIVE_TOKENS = 50  # per client: older live tokens are dropped beyond this


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: `error` code, a description, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class Bearer:
    client: OneRosterClient
    scopes: frozenset[str]


@transaction.atomic
def issue_client(publisher: Publisher, name: str, *, actor: Actor,
                 request: HttpRequest | None = None) -> tuple[OneRosterClient, str]:
    """RULE: a new OneRoster client for the publisher; its secret is returned once (shown once
    in the portal) and only its digest is kept. Audited."""
    row, secret = OneRosterClient.issue(publisher, name.strip()[:100], created_by=actor)
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_ONEROSTER_CLIENT_CREATE,
           target=f"{publisher.name}: {row.name} ({row.client_id})", after={"name": row.name},
           request=request)
    return row, secret


@transaction.atomic
def revoke_client(publisher: Publisher, client_pk: int, *, actor: Actor,
                  request: HttpRequest | None = None) -> OneRosterClient | None:
    """RULE: only the publisher's own clients can be revoked (None otherwise); a revoked client
    gets no new tokens and its tokens stop working at once. Audited."""
    row = (OneRosterClient.objects.select_for_update()
           .filter(publisher=publisher, pk=client_pk).first())
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        row.tokens.all().delete()
        record(actor=actor, school=None, action=AuditAction.EXCHANGE_ONEROSTER_CLIENT_REVOKE,
               target=f"{publisher.name}: {row.name} ({row.client_id})", request=request)
    return row


def _live_client(client_id: str, secret: str) -> OneRosterClient | None:
    if not client_id or not secret or len(client_id) > 64 or len(secret) > 200:
        return None
    row = (OneRosterClient.objects.select_related("publisher")
           .filter(client_id=client_id, revoked_at__isnull=True).first())
    if row is None or not row.publisher.active:
        return None
    if not hmac.compare_digest(row.secret_digest, hash_token(secret)):
        return None
    return row


def granted_scopes(requested: str | None) -> list[str]:
    """RULE: a client may have roster-core.readonly and roster.readonly (all of them when it
    asks for none); demographics is never given (invalid_scope), nor any scope unknown."""
    if requested is None or not requested.strip():
        return list(GRANTABLE)
    wanted = requested.split()
    unknown = [scope for scope in wanted if scope not in GRANTABLE]
    if unknown:
        raise OAuthError("invalid_scope", (
            "Klaspoort does not give demographics." if DEMOGRAPHICS in unknown
            else "Unknown scope: " + unknown[0][:200]))
    return [scope for scope in GRANTABLE if scope in wanted]


@transaction.atomic
def grant(*, grant_type: str | None, client_id: str, secret: str, scope: str | None) -> Grant:
    """RULE (RFC 6749 §4.4): only grant_type=client_credentials, only a live client with its
    right secret (invalid_client otherwise, without saying which part was wrong), only the
    scopes granted_scopes allows. Returns a new bearer token living TOKEN_LIFETIME; the
    client's expired tokens are cleared on the way."""
    client = _live_client(client_id, secret)
    if client is None:
        raise OAuthError("invalid_client", "Unknown client or wrong secret.", 401)
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type" if grant_type else "invalid_request",
                         "Use grant_type=client_credentials.")
    scopes = granted_scopes(scope)
    now = timezone.now()
    OneRosterAccessToken.objects.filter(client=client, expires_at__lte=now).delete()
    stale = list(OneRosterAccessToken.objects.filter(client=client).order_by(
        "-created_at").values_list("pk", flat=True)[MAX_LIVE_TOKENS - 1:])
    if stale:
        OneRosterAccessToken.objects.filter(pk__in=stale).delete()
    plain = "ort_" + secrets.token_urlsafe(32)
    OneRosterAccessToken.objects.create(client=client, digest=hash_token(plain),
                                        scope=" ".join(scopes),
                                        expires_at=now + TOKEN_LIFETIME)
    OneRosterClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return Grant(plain, int(TOKEN_LIFETIME.total_seconds()), " ".join(scopes))


def bearer_for(plain: str) -> Bearer | None:
    """The live token with this value and its scopes (None for unknown, expired, or of a
    revoked client or an inactive publisher); notes the client's use."""
    if not plain or len(plain) > 200:
        return None
    now = timezone.now()
    row = (OneRosterAccessToken.objects.select_related("client", "client__publisher")
           .filter(digest=hash_token(plain), expires_at__gt=now,
                   client__revoked_at__isnull=True).first())
    if row is None or not row.client.publisher.active:
        return None
    client = row.client
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
        OneRosterClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return Bearer(client, frozenset(row.scope.split()))
