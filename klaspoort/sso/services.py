"""Writes of single sign-on: registering a publisher's software as a client and what the
publisher changes of it in the portal (addresses, secret rotation with overlap, switching off,
deleting), and keeping what an authorization code was issued with and what was issued from it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import AccessToken, Application, IDToken
from oauth2_provider.settings import oauth2_settings

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.schools.models import Publisher
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.selectors import (
    CodeGrant,
    code_key,
    kept_claims_key,
    redeemed_key,
    secret_digest,
    tokens_of_redeemed_code,
)

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
MAX_URIS = 20


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


def _clean_uris(uris: list[str] | None, field: str, errors: dict[str, list[str]]) -> list[str]:
    """The addresses without blanks and repeats, each checked; problems collected per field."""
    cleaned: list[str] = []
    for uri in (u.strip() for u in uris or []):
        if not uri or uri in cleaned:
            continue
        if len(uri) > 2000 or any(c.isspace() for c in uri):
            errors.setdefault(field, []).append(
                _("%(uri)s is not an absolute https address.") % {"uri": uri[:100]})
            continue
        try:
            check_redirect_uri(uri)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            continue
        cleaned.append(uri)
    if len(cleaned) > MAX_URIS:
        errors.setdefault(field, []).append(
            _("At most %(count)d addresses.") % {"count": MAX_URIS})
    return cleaned


@dataclass(frozen=True)
class ClientSettings:
    """What a publisher itself may set of its client (the portal's form and the command)."""

    name: str
    redirect_uris: list[str]
    post_logout_uris: list[str]
    initiate_login_uri: str = ""
    default_target_uri: str = ""


def _checked(wanted: ClientSettings) -> ClientSettings:
    """Rule: a name, at least one redirect URI, and every address (redirect, after signing
    out, login, default target) absolute https, plain http only on localhost; refused with
    the reasons per field, in the user's language."""
    errors: dict[str, list[str]] = {}
    name = wanted.name.strip()
    if not name:
        errors["name"] = [_("Give the client a name.")]
    elif len(name) > 255:
        errors["name"] = [_("At most 255 characters.")]
    uris = _clean_uris(wanted.redirect_uris, "redirect_uris", errors)
    if not uris and "redirect_uris" not in errors:
        errors["redirect_uris"] = [_("Give at least one redirect URI.")]
    logout_uris = _clean_uris(wanted.post_logout_uris, "post_logout_uris", errors)
    single = {}
    for field in ("initiate_login_uri", "default_target_uri"):
        value = getattr(wanted, field).strip()
        if value:
            found = _clean_uris([value], field, errors)
            value = found[0] if found else ""
        single[field] = value
    if errors:
        raise ValidationError(errors)
    return ClientSettings(name, uris, logout_uris, **single)


def _audit_view(client: PublisherClient) -> dict[str, Any]:
    """A client's settings as the trail keeps them (never a secret or its hash)."""
    application = client.application
    return {
        "name": application.name,
        "redirect_uris": application.redirect_uris.split(),
        "post_logout_uris": application.post_logout_redirect_uris.split(),
        "initiate_login_uri": client.initiate_login_uri,
        "default_target_uri": client.default_target_uri,
        "client_type": application.client_type,
        "name_detail": client.name_detail,
        "chain_partner": client.chain_partner,
    }


def _target(client: PublisherClient) -> str:
    return f"{client.publisher.name}: {client.application.name} ({client.application.client_id})"


@transaction.atomic
def register_client(publisher: Publisher, name: str, redirect_uris: list[str], *,
                    confidential: bool = True, name_detail: str = "initial",
                    chain_partner: bool = False, post_logout_redirect_uris: list[str] | None = None,
                    default_target_uri: str = "", initiate_login_uri: str = "",
                    client_id: str = "", client_secret: str = "", actor: Actor = None,
                    request: HttpRequest | None = None) -> Registered:
    """Register a publisher's software as an OpenID Connect client.

    Rules: authorization code flow only, ID tokens signed with RS256, no consent screen (the
    school's consent is the approval, asked at every sign-in), redirect URIs matched exactly
    and every address https except on localhost (`_checked`). A confidential client gets a
    secret, stored hashed and returned once; a public client (an app without a server) relies
    on PKCE alone. Audited (never the secret).
    """
    checked = _checked(ClientSettings(name, redirect_uris, post_logout_redirect_uris or [],
                                      initiate_login_uri, default_target_uri))
    if name_detail not in PublisherClient.NameDetail.values:
        raise ValidationError(_("Unknown name detail."))
    client_id = client_id or generate_client_id()
    if Application.objects.filter(client_id=client_id).exists():
        raise ValidationError(_("This client id is already in use."))
    secret = (client_secret or generate_client_secret()) if confidential else ""
    application = Application.objects.create(
        name=checked.name,
        client_id=client_id,
        client_secret=secret,
        client_type=(Application.CLIENT_CONFIDENTIAL if confidential
                     else Application.CLIENT_PUBLIC),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(checked.redirect_uris),
        post_logout_redirect_uris=" ".join(checked.post_logout_uris),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        hash_client_secret=True,
    )
    client = PublisherClient.objects.create(
        application=application, publisher=publisher, name_detail=name_detail,
        chain_partner=chain_partner, default_target_uri=checked.default_target_uri,
        initiate_login_uri=checked.initiate_login_uri)
    record(actor=actor, school=None, action=AuditAction.SSO_CLIENT_CREATE,
           target=_target(client), after=_audit_view(client), request=request)
    return Registered(client, client_id, secret)


def _locked(client: PublisherClient) -> PublisherClient:
    """The client row again, locked for this transaction (two admins at once: one wins)."""
    return (PublisherClient.objects.select_for_update().select_related("application", "publisher")
            .get(pk=client.pk))


@transaction.atomic
def update_client(client: PublisherClient, wanted: ClientSettings, *, actor: Actor,
                  request: HttpRequest | None = None) -> PublisherClient:
    """Rule: a publisher changes its client's name and addresses under the same rules as at
    registration (`_checked`); whose data agreement it follows (name detail, chain partner)
    and whether it is confidential stay as the operator registered them. Audited."""
    checked = _checked(wanted)
    client = _locked(client)
    before = _audit_view(client)
    application = client.application
    application.name = checked.name
    application.redirect_uris = " ".join(checked.redirect_uris)
    application.post_logout_redirect_uris = " ".join(checked.post_logout_uris)
    application.save(update_fields=["name", "redirect_uris", "post_logout_redirect_uris",
                                    "updated"])
    client.initiate_login_uri = checked.initiate_login_uri
    client.default_target_uri = checked.default_target_uri
    client.save(update_fields=["initiate_login_uri", "default_target_uri"])
    after = _audit_view(client)
    if after != before:
        changed = [key for key in after if after[key] != before[key]]
        record(actor=actor, school=None, action=AuditAction.SSO_CLIENT_UPDATE,
               target=_target(client), before={key: before[key] for key in changed},
               after={key: after[key] for key in changed}, request=request)
    return client


def secret_overlap() -> datetime.timedelta:
    return datetime.timedelta(days=max(0, settings.KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS))


@transaction.atomic
def rotate_secret(client: PublisherClient, *, actor: Actor,
                  request: HttpRequest | None = None) -> str:
    """Rule: a confidential client gets a new secret, returned once; the secret it had keeps
    working for KLASPOORT_CLIENT_SECRET_OVERLAP_DAYS so the publisher can switch its servers
    over, then stops. A secret older than that (from a rotation whose overlap still ran)
    stops at once: only one previous secret is kept. Audited (never a secret)."""
    client = _locked(client)
    if not client.is_confidential:
        raise ValidationError(_("A public client has no secret."))
    application = client.application
    # The stored value is normally the toolkit's hash already: kept as it is, checked the same
    # way. An operator may have stored one unhashed (hash_client_secret off): hashed here, so
    # no plain secret is ever kept beside the Application.
    previous = application.client_secret
    try:
        identify_hasher(previous)
    except ValueError:
        previous = make_password(previous, hasher=oauth2_settings.CLIENT_SECRET_HASHER)
    client.previous_secret = previous
    client.previous_secret_expires_at = timezone.now() + secret_overlap()
    plain = str(generate_client_secret())
    application.client_secret = plain  # hashed by the toolkit's field when saved
    application.save(update_fields=["client_secret", "updated"])
    client.save(update_fields=["previous_secret", "previous_secret_expires_at"])
    record(actor=actor, school=None, action=AuditAction.SSO_SECRET_ROTATE,
           target=_target(client), after={"overlap_days": secret_overlap().days},
           request=request)
    return plain


@transaction.atomic
def end_overlap(client: PublisherClient, *, actor: Actor,
                request: HttpRequest | None = None) -> bool:
    """Rule: the publisher may stop the previous secret before its overlap ends (it has
    switched over, or the old secret leaked); it cannot be brought back. Audited when there
    was one to stop; returns whether there was."""
    client = _locked(client)
    if not client.overlap_running(timezone.now()):
        return False
    client.previous_secret = ""
    client.previous_secret_expires_at = None
    client.save(update_fields=["previous_secret", "previous_secret_expires_at"])
    record(actor=actor, school=None, action=AuditAction.SSO_SECRET_END_OVERLAP,
           target=_target(client), request=request)
    return True


@transaction.atomic
def set_disabled(client: PublisherClient, disabled: bool, *, actor: Actor,
                 request: HttpRequest | None = None) -> PublisherClient:
    """Rule: a switched-off client signs nobody in (its sign-ins, code redemptions and
    userinfo calls are refused as for an unknown client) until it is switched on again; its
    settings and secret stay. Audited when it changes."""
    client = _locked(client)
    if (client.disabled_at is not None) == disabled:
        return client
    client.disabled_at = timezone.now() if disabled else None
    client.save(update_fields=["disabled_at"])
    record(actor=actor, school=None,
           action=AuditAction.SSO_CLIENT_DISABLE if disabled else AuditAction.SSO_CLIENT_ENABLE,
           target=_target(client), request=request)
    return client


@transaction.atomic
def delete_client(client: PublisherClient, *, actor: Actor,
                  request: HttpRequest | None = None) -> None:
    """Rule: deleting a client removes it with its codes and tokens for good; its client id
    is never valid again. Audited with the settings it had."""
    client = _locked(client)
    before = _audit_view(client)
    target = _target(client)
    client.application.delete()  # the PublisherClient row goes with it (CASCADE)
    record(actor=actor, school=None, action=AuditAction.SSO_CLIENT_DELETE, target=target,
           before=before, request=request)


# --- authorization codes: kept in the shared cache, redeemed once (decision 0041) -------------

# How long the tokens a code gave can still be revoked by replaying the code: longer than the
# code (60 s) and its tokens (10 minutes) live.
REDEEMED_KEPT_SECONDS = 60 * 60
# A code's entry outlives its expiry a little, so that a code presented just too late is
# answered as expired (invalid_grant) rather than as unknown (which revokes as a replay).
CODE_GRACE_SECONDS = 10


def issue_code(code: str, grant: CodeGrant) -> None:
    """Rule: an authorization code is kept in the shared cache, under a digest of the code
    (never the code), until it is redeemed or shortly after it expires; it is never written
    to the database, which the morning peak would otherwise pay for with an INSERT and a
    DELETE per sign-in (decision 0041)."""
    from django.core.cache import cache

    seconds = oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS + CODE_GRACE_SECONDS
    cache.set(code_key(code), grant, seconds)


def redeem_code(code: str) -> bool:
    """Rule: a code gives tokens once (RFC 6749 §4.1.2). Redeeming takes it out of the cache in
    one atomic delete: of two requests with the same code at the same moment, on any server,
    exactly one sees it go and gets tokens. Returns whether this call took it."""
    from django.core.cache import cache

    return bool(cache.delete(code_key(code)))


def record_redeemed(code: str, access_token: Any, id_token: Any) -> None:
    """Note, for an hour, which tokens a code gave, so that replaying it can revoke them."""
    from django.core.cache import cache

    cache.set(redeemed_key(code), (getattr(access_token, "pk", None),
                                   getattr(id_token, "pk", None)), REDEEMED_KEPT_SECONDS)


@transaction.atomic
def revoke_replayed(code: str) -> bool:
    """Rule (RFC 6749 §4.1.2): a code presented again after it was redeemed revokes the access
    and ID tokens issued from it, since whoever holds it now may have stolen it. Returns
    whether anything was revoked."""
    issued = tokens_of_redeemed_code(code)
    if issued is None:
        return False
    access_token_id, id_token_id = issued
    access_tokens = AccessToken.objects.filter(pk=access_token_id).delete()[0]
    id_tokens = IDToken.objects.filter(pk=id_token_id).delete()[0]
    return bool(access_tokens or id_tokens)


def keep_claims(access_token: str, epoch: str | None, claims: dict[str, Any],
                seconds: int) -> None:
    """Keep an allowed decision's claims with the access token it was taken for, and the
    access epoch read before it was taken (selectors.kept_claims trusts them only while that
    epoch holds), for as long as the token lives. (A code carries its decision in its
    CodeGrant.)"""
    if epoch is None or not access_token:
        return
    from django.core.cache import cache

    cache.set(kept_claims_key(secret_digest(access_token)), {"epoch": epoch, "claims": claims},
              seconds)


def clear_expired_sign_ins() -> None:
    """RULE: once a night, what a day of sign-ins leaves behind and can never be used again is
    deleted: expired sessions (a pupil's live 12 hours), the toolkit's expired grants, access
    tokens and ID tokens (codes live in the cache and expire there). At the morning peak that
    is some 1.5 million rows a day of each; kept, the tables and their indexes only grow."""
    from importlib import import_module

    from oauth2_provider.models import clear_expired

    clear_expired()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
