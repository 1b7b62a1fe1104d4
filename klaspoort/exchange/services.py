"""API tokens of publishers and network providers: issuing, revoking and recognising them."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record, user_of
from klaspoort.exchange.models import NetworkProviderApiToken, PublisherApiToken, hash_token
from klaspoort.schools.models import NetworkProvider, Publisher

# Writing last_used_at on every call would make each API request a write; once a minute is
# enough to tell a token in use from a forgotten one.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


@transaction.atomic
def issue_token(publisher: Publisher, name: str, *, actor: Actor,
                request: HttpRequest | None = None) -> tuple[PublisherApiToken, str]:
    """RULE: a new token for the publisher; its plain value is returned once (shown once in
    the portal) and only its digest is kept. Audited."""
    row, plain = PublisherApiToken.issue(publisher, name.strip()[:100], created_by=actor)
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_TOKEN_CREATE,
           target=f"{publisher.name}: {row.name} ({row.prefix}…)", after={"name": row.name},
           request=request)
    return row, plain


@transaction.atomic
def revoke_token(publisher: Publisher, token_id: int, *, actor: Actor,
                 request: HttpRequest | None = None) -> PublisherApiToken | None:
    """RULE: only the publisher's own tokens can be revoked (None otherwise); a revoked token
    is refused from then on and cannot be brought back. Audited."""
    row = (PublisherApiToken.objects.select_for_update()
           .filter(publisher=publisher, pk=token_id).first())
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(actor=actor, school=None, action=AuditAction.EXCHANGE_TOKEN_REVOKE,
               target=f"{publisher.name}: {row.name} ({row.prefix}…)", request=request)
    return row


def _live(model: Any, owner: str, plain: str) -> Any:
    """RULE: the live token with this value — not revoked, its owner (publisher or network
    provider) still active — or None; its use is noted at most once a minute."""
    if not plain or len(plain) > 200:
        return None
    row = (model.objects.select_related(owner)
           .filter(digest=hash_token(plain), revoked_at__isnull=True).first())
    if row is None or not getattr(row, owner).active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        model.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def token_for(plain: str) -> PublisherApiToken | None:
    """The live publisher token with this value (None for an unknown or revoked one)."""
    row: PublisherApiToken | None = _live(PublisherApiToken, "publisher", plain)
    return row


# ---------------------------------------------------------------------------------------------
# Network provider tokens (decision 0032): made and revoked by an operator.
# ---------------------------------------------------------------------------------------------
class TokenPrefixError(Exception):
    """A prefix that names no token, or more than one, of the provider."""


@transaction.atomic
def issue_network_token(provider: NetworkProvider, name: str, *, actor: Actor,
                        request: HttpRequest | None = None) -> tuple[NetworkProviderApiToken,
                                                                     str]:
    """RULE: a new token for the network provider; its plain value is returned once (printed
    once by the command) and only its digest is kept; a name is required, so the operator can
    tell the provider's tokens apart. Audited."""
    if not name.strip():
        raise ValidationError(_("Give the token a name."))
    row, plain = NetworkProviderApiToken.issue(provider, name.strip()[:100],
                                               created_by=user_of(actor))
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_NETWORK_TOKEN_CREATE,
           target=f"{provider.name}: {row.name} ({row.prefix}…)", after={"name": row.name},
           request=request)
    return row, plain


@transaction.atomic
def revoke_network_token(row: NetworkProviderApiToken, *, actor: Actor,
                         request: HttpRequest | None = None) -> bool:
    """RULE: a revoked token is refused from then on and cannot be brought back; revoking it
    again changes nothing. Audited. True when it was live until now."""
    row = NetworkProviderApiToken.objects.select_for_update().select_related(
        "provider").get(pk=row.pk)
    if row.revoked_at is not None:
        return False
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    record(actor=actor, school=None, action=AuditAction.EXCHANGE_NETWORK_TOKEN_REVOKE,
           target=f"{row.provider.name}: {row.name} ({row.prefix}…)", request=request)
    return True


def network_token_by_prefix(provider: NetworkProvider, prefix: str) -> NetworkProviderApiToken:
    """The provider's one token whose value starts with `prefix` (at least its first 8
    characters, as the command printed them); TokenPrefixError for none or several."""
    given = prefix.strip().rstrip("…")[:10]
    if len(given) < 8:
        raise TokenPrefixError(_("Give at least the first 8 characters of the token."))
    rows = list(NetworkProviderApiToken.objects.filter(provider=provider,
                                                       prefix__startswith=given)[:2])
    if not rows:
        raise TokenPrefixError(_("%(provider)s has no token starting with %(prefix)s.")
                               % {"provider": provider.name, "prefix": given})
    if len(rows) > 1:
        raise TokenPrefixError(_("Several tokens of %(provider)s start with %(prefix)s; give "
                                 "more characters.") % {"provider": provider.name,
                                                        "prefix": given})
    return rows[0]


def network_token_for(plain: str) -> NetworkProviderApiToken | None:
    """The live token with this value (None for an unknown or revoked one, or one of a network
    provider no longer in the catalogue); notes its use."""
    row: NetworkProviderApiToken | None = _live(NetworkProviderApiToken, "provider", plain)
    return row
