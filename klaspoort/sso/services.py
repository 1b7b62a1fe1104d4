"""Writes of single sign-on: registering a publisher's software as a client, and keeping
what an authorization code was issued with and what was issued from it."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import AccessToken, Application, IDToken

from klaspoort.schools.models import Publisher
from klaspoort.sso.models import IssuedCode, PublisherClient
from klaspoort.sso.selectors import SignIn

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Registered:
    client: PublisherClient
    client_id: str
    client_secret: str  # plain, shown once; "" for a public client


def check_redirect_uri(uri: str) -> None:
    """Rule: a redirect URI is an absolute https address without a fragment; plain http only
    for the machine itself (a developer's or the demo's publisher application)."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc or parts.scheme not in {"https", "http"}:
        raise ValidationError(_("%(uri)s is not an absolute https address.") % {"uri": uri})
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValidationError(
            _("%(uri)s must use https (plain http only for localhost).") % {"uri": uri})


@transaction.atomic
def register_client(publisher: Publisher, name: str, redirect_uris: list[str], *,
                    confidential: bool = True, name_detail: str = "initial",
                    chain_partner: bool = False, post_logout_redirect_uris: list[str] | None = None,
                    default_target_uri: str = "", client_id: str = "",
                    client_secret: str = "") -> Registered:
    """Register a publisher's software as an OpenID Connect client.

    Rules: authorization code flow only, ID tokens signed with RS256, no consent screen (the
    school's consent to the publisher is the approval, asked at every sign-in), redirect URIs
    matched exactly and https except on localhost. A confidential client gets a secret, stored
    hashed and returned once; a public client (an app without a server) relies on PKCE alone.
    """
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise ValidationError(_("Give at least one redirect URI."))
    logout_uris = [u.strip() for u in post_logout_redirect_uris or [] if u.strip()]
    for uri in uris + logout_uris:
        check_redirect_uri(uri)
    if name_detail not in PublisherClient.NameDetail.values:
        raise ValidationError(_("Unknown name detail."))
    client_id = client_id or generate_client_id()
    if Application.objects.filter(client_id=client_id).exists():
        raise ValidationError(_("This client id is already in use."))
    secret = (client_secret or generate_client_secret()) if confidential else ""
    application = Application.objects.create(
        name=name,
        client_id=client_id,
        client_secret=secret,
        client_type=(Application.CLIENT_CONFIDENTIAL if confidential
                     else Application.CLIENT_PUBLIC),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(uris),
        post_logout_redirect_uris=" ".join(logout_uris),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        hash_client_secret=True,
    )
    client = PublisherClient.objects.create(
        application=application, publisher=publisher, name_detail=name_detail,
        chain_partner=chain_partner, default_target_uri=default_target_uri)
    return Registered(client, client_id, secret)


# --- authorization codes: how the user signed in, and what was issued ------------------------

ISSUED_CODE_KEPT = datetime.timedelta(hours=1)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def remember_code(code: str, signin: SignIn) -> IssuedCode:
    """Keep how the user had signed in when `code` was issued, for the ID token made when it
    is redeemed (the token endpoint has no browser session). Rows older than an hour, whose
    codes and tokens have long expired, are dropped on the way."""
    IssuedCode.objects.filter(created_at__lt=timezone.now() - ISSUED_CODE_KEPT).delete()
    auth_time = (datetime.datetime.fromtimestamp(signin.auth_time, tz=datetime.UTC)
                 if signin.auth_time is not None else None)
    return IssuedCode.objects.create(code_hash=code_hash(code), amr=signin.amr, acr=signin.acr,
                                     auth_time=auth_time)


def record_issued(issued: IssuedCode, access_token: Any, id_token: Any) -> None:
    """Note the tokens issued from a code, so that replaying the code can revoke them."""
    issued.access_token_id = access_token.pk if access_token is not None else None
    issued.id_token_id = id_token.pk if id_token is not None else None
    issued.save(update_fields=["access_token_id", "id_token_id"])


@transaction.atomic
def revoke_replayed(code: str) -> bool:
    """Rule (RFC 6749 §4.1.2): a code presented again after it was redeemed revokes the access
    and ID tokens issued from it, since whoever holds it now may have stolen it. Returns
    whether anything was revoked."""
    issued = (IssuedCode.objects.select_for_update()
              .filter(code_hash=code_hash(code)).first())
    if issued is None:
        return False
    access_tokens = AccessToken.objects.filter(pk=issued.access_token_id).delete()[0]
    id_tokens = IDToken.objects.filter(pk=issued.id_token_id).delete()[0]
    return bool(access_tokens or id_tokens)
