"""API tokens of publishers, network providers and pupil administrations (LAS): issuing,
revoking and recognising them."""

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
from klaspoort.exchange.models import (
    LasApiToken,
    NetworkProviderApiToken,
    PublisherApiToken,
    hash_token,
)
from klaspoort.roster.models import LasSystem
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
    row, plain = _issue(NetworkProviderApiToken, provider, provider.name, name, actor,
                        AuditAction.EXCHANGE_NETWORK_TOKEN_CREATE, request)
    return row, plain


def _issue(model: Any, owner: Any, owner_name: str, name: str, actor: Actor,
           action: AuditAction,
           request: HttpRequest | None) -> tuple[Any, str]:
    """The steps every operator-made token shares: a name required, the token made for its
    owner (plain value once, digest kept), the audit entry without the token."""
    if not name.strip():
        raise ValidationError(_("Give the token a name."))
    row, plain = model.issue(owner, name.strip()[:100], created_by=user_of(actor))
    record(actor=actor, school=None, action=action,
           target=f"{owner_name}: {row.name} ({row.prefix}…)", after={"name": row.name},
           request=request)
    return row, plain


def _revoke(row: Any, owner_name: str, actor: Actor, action: AuditAction,
            request: HttpRequest | None) -> bool:
    """The revocation every operator-made token shares (the row locked by the caller): once,
    for good, audited."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    record(actor=actor, school=None, action=action,
           target=f"{owner_name}: {row.name} ({row.prefix}…)", request=request)
    return True


@transaction.atomic
def revoke_network_token(row: NetworkProviderApiToken, *, actor: Actor,
                         request: HttpRequest | None = None) -> bool:
    """RULE: a revoked token is refused from then on and cannot be brought back; revoking it
    again changes nothing. Audited. True when it was live until now."""
    row = NetworkProviderApiToken.objects.select_for_update().select_related(
        "provider").get(pk=row.pk)
    return _revoke(row, row.provider.name, actor, AuditAction.EXCHANGE_NETWORK_TOKEN_REVOKE,
                   request)


def network_token_by_prefix(provider: NetworkProvider, prefix: str) -> NetworkProviderApiToken:
    """The provider's one token whose value starts with `prefix` (at least its first 8
    characters, as the command printed them); TokenPrefixError for none or several."""
    row: NetworkProviderApiToken = _by_prefix(NetworkProviderApiToken.objects.filter(
        provider=provider), provider.name, prefix)
    return row


def _by_prefix(tokens: Any, owner_name: str, prefix: str) -> Any:
    given = prefix.strip().rstrip("…")[:10]
    if len(given) < 8:
        raise TokenPrefixError(_("Give at least the first 8 characters of the token."))
    rows = list(tokens.filter(prefix__startswith=given)[:2])
    if not rows:
        raise TokenPrefixError(_("%(provider)s has no token starting with %(prefix)s.")
                               % {"provider": owner_name, "prefix": given})
    if len(rows) > 1:
        raise TokenPrefixError(_("Several tokens of %(provider)s start with %(prefix)s; give "
                                 "more characters.") % {"provider": owner_name,
                                                        "prefix": given})
    return rows[0]


def network_token_for(plain: str) -> NetworkProviderApiToken | None:
    """The live token with this value (None for an unknown or revoked one, or one of a network
    provider no longer in the catalogue); notes its use."""
    row: NetworkProviderApiToken | None = _live(NetworkProviderApiToken, "provider", plain)
    return row


# ---------------------------------------------------------------------------------------------
# LAS tokens (issue 14): a pupil administration pushes rosters with one; made and revoked by an
# operator, like a network provider's.
# ---------------------------------------------------------------------------------------------
@transaction.atomic
def issue_las_token(las: LasSystem, name: str, *, actor: Actor,
                    request: HttpRequest | None = None) -> tuple[LasApiToken, str]:
    """RULE: a new token for the LAS; its plain value is returned once (printed once by the
    command) and only its digest is kept; a name is required, so the operator can tell the
    LAS's tokens apart. A token does not open any school by itself: a push is accepted only
    for a school whose coordinator switched this LAS on. Audited."""
    row, plain = _issue(LasApiToken, las, las.name, name, actor,
                        AuditAction.EXCHANGE_LAS_TOKEN_CREATE, request)
    return row, plain


@transaction.atomic
def revoke_las_token(row: LasApiToken, *, actor: Actor,
                     request: HttpRequest | None = None) -> bool:
    """RULE: a revoked token is refused from then on and cannot be brought back; revoking it
    again changes nothing. Audited. True when it was live until now."""
    row = LasApiToken.objects.select_for_update().select_related("las").get(pk=row.pk)
    return _revoke(row, row.las.name, actor, AuditAction.EXCHANGE_LAS_TOKEN_REVOKE, request)


def las_token_by_prefix(las: LasSystem, prefix: str) -> LasApiToken:
    """The LAS's one token whose value starts with `prefix` (at least its first 8 characters,
    as the command printed them); TokenPrefixError for none or several."""
    row: LasApiToken = _by_prefix(LasApiToken.objects.filter(las=las), las.name, prefix)
    return row


def las_token_for(plain: str) -> LasApiToken | None:
    """The live LAS token with this value (None for an unknown or revoked one, or one of a LAS
    taken out of the catalogue); notes its use."""
    row: LasApiToken | None = _live(LasApiToken, "las", plain)
    return row
