"""Writes of single sign-on: registering a publisher's software as a client."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import Application

from klaspoort.schools.models import Publisher
from klaspoort.sso.models import PublisherClient

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
