"""Publisher API tokens: issuing, revoking and recognising them."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.exchange.models import PublisherApiToken, hash_token
from klaspoort.schools.models import Publisher

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


def token_for(plain: str) -> PublisherApiToken | None:
    """The live token with this value (None for an unknown or revoked one); notes its use."""
    if not plain or len(plain) > 200:
        return None
    row = (PublisherApiToken.objects.select_related("publisher")
           .filter(digest=hash_token(plain), revoked_at__isnull=True).first())
    if row is None or not row.publisher.active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        PublisherApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
