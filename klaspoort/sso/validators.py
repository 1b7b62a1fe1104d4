"""django-oauth-toolkit's validator and server, narrowed to what publishers' software needs.

Only the authorization code flow (with PKCE, required in settings), no refresh tokens, and the
Klaspoort rules (selectors.decide) asked again when the code is redeemed and at every userinfo
call, unless nothing they read has changed since /o/authorize decided (decision 0039: the
claims are kept with the code and the access token, with the access epoch). Authorization codes
live in the shared cache instead of the toolkit's Grant rows (decision 0041).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import datetime
import json
from typing import Any
from urllib.parse import unquote_plus

from django.db import router, transaction
from django.utils import timezone
from oauth2_provider.models import (
    AbstractApplication,
    AccessToken,
    IDToken,
    get_application_model,
    get_grant_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.errors import (
    CustomOAuth2Error,
    InvalidGrantError,
    InvalidRequestError,
)
from oauthlib.openid import Server

from klaspoort.kept import Kept
from klaspoort.sso import services
from klaspoort.sso.claims import CLAIM_SCOPES, claims_for
from klaspoort.sso.selectors import (
    ACR_UNKNOWN,
    CodeGrant,
    Decision,
    application_key,
    client_of_application,
    code_grant,
    decide,
    kept_claims,
    previous_secret_accepted,
)

DECISION_ATTR = "klaspoort_decision"
GRANT_ATTR = "_klaspoort_grant"
# The authorization view puts the session's SignIn among the credentials; oauthlib copies
# them onto its request, where save_authorization_code finds it.
SIGNIN_CREDENTIAL = "klaspoort_signin"
ACCESS_TOKEN_ATTR = "_klaspoort_access_token"  # noqa: S105 (an attribute name)
# (epoch, claims) of the decision /o/authorize took, among the credentials like the SignIn.
KEPT_CREDENTIAL = "klaspoort_kept"
CLAIMS_ATTR = "_klaspoort_claims"
EPOCH_ATTR = "_klaspoort_epoch"

Grant = get_grant_model()
# The ID token this token request has just signed and saved, as (its JWT, its row): the access
# token points at it without parsing, verifying and reading it back.
_JUST_SIGNED: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar(
    "klaspoort_just_signed_id_token", default=None)


def _kept(request: Any) -> Kept:
    """The facts kept under the epoch of the request being served: the browser's request at
    /o/authorize (AuthorizeView), else one per oauthlib request (token, userinfo)."""
    return Kept.serving_now() or Kept.of(request)


def _as_grant(found: CodeGrant | None) -> Any:
    """The toolkit's Grant (unsaved) for a code kept in the cache, or None."""
    if found is None:
        return None
    return Grant(application_id=found.application_id, user_id=found.user_id,
                 expires=found.expires, redirect_uri=found.redirect_uri, scope=found.scope,
                 code_challenge=found.code_challenge,
                 code_challenge_method=found.code_challenge_method, nonce=found.nonce,
                 claims=found.claims, resource=list(found.resource))


class NoRefreshTokenServer(Server):
    """oauthlib's OpenID Connect server without refresh tokens: a publisher signs a user in
    again through Klaspoort (which asks the rules again) rather than keeping a token that
    outlives a withdrawn consent. Nor does it know the device-code grant: Klaspoort has no
    device flow, so such a token request is unsupported_grant_type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auth_grant.refresh_token = False
        self.openid_connect_auth.refresh_token = False
        self.openid_connect_hybrid.refresh_token = False
        self._grant_types.pop("urn:ietf:params:oauth:grant-type:device_code", None)


class KlaspoortValidator(OAuth2Validator):
    """The toolkit's validator with Klaspoort's rules.

    Codes (decision 0041): the toolkit keeps a Grant row per code and reads it once per
    question at the token endpoint (scopes, code, PKCE challenge and method, redirect URI,
    nonce, resource). Here a code is kept in the shared cache (save_authorization_code), read
    once per oauthlib request and turned into an unsaved Grant, so every question gets the
    toolkit's own answer, also when the code is unknown or belongs to another client. Expiry is
    checked in validate_code; save_bearer_token redeems the code atomically before any token is
    saved, so a code redeemed twice, even at the same moment on two servers, fails once.
    """

    oidc_claim_scope = CLAIM_SCOPES

    # --- the code's Grant, from the cache, once per oauthlib request (decision 0041) ---------

    @staticmethod
    def _code_grant(code: str, request: Any) -> CodeGrant | None:
        """What `code` stands for (selectors.code_grant), asked of the cache once per oauthlib
        request."""
        if not isinstance(request, OauthlibRequest):
            return code_grant(code)
        cached = getattr(request, GRANT_ATTR, None)
        if cached is not None and cached[0] == code:
            return cached[1]  # type: ignore[no-any-return]
        found = code_grant(code)
        setattr(request, GRANT_ATTR, (code, found, _as_grant(found)))
        return found

    @classmethod
    def _grant_by_code(cls, code: str, request: Any) -> Any:
        """The toolkit's Grant of `code` whichever client it belongs to (codes are unique),
        built from the cache and never saved (so its checks, such as redirect_uri_allowed and
        is_expired, are the toolkit's own), or None."""
        found = cls._code_grant(code, request)
        if not isinstance(request, OauthlibRequest):
            return _as_grant(found)
        return getattr(request, GRANT_ATTR)[2]

    def _grant_of_client(self, code: str, client: Any, request: Any) -> Any:
        """What Grant.objects.get(code=code, application=client) would return; raises
        Grant.DoesNotExist when the code is unknown or another client's."""
        grant = self._grant_by_code(code, request)
        if (grant is None or not isinstance(client, AbstractApplication) or client.pk is None
                or grant.application_id != client.pk):
            raise Grant.DoesNotExist("Grant matching query does not exist.")
        return grant

    @staticmethod
    def _request_in(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        request = kwargs.get("request")
        if request is None and args:
            request = args[0]
        return request if isinstance(request, OauthlibRequest) else None

    def get_authorization_code_scopes(self, client_id: str, code: str, redirect_uri: str,
                                      request: Any) -> list[str]:
        grant = self._grant_by_code(code, request)
        if grant is not None and grant.scope:
            return list(utils.scope_to_list(grant.scope))
        return []

    def get_authorization_code_nonce(self, client_id: str, code: str, redirect_uri: str,
                                     request: Any) -> str | None:
        grant = self._grant_by_code(code, request)
        if grant is not None and grant.nonce:
            return str(grant.nonce)
        return None

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        grant = self._grant_of_client(code, request.client, request)
        return grant.code_challenge or None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        grant = self._grant_of_client(code, request.client, request)
        return grant.code_challenge_method or None

    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any,
                             *args: Any, **kwargs: Any) -> bool:
        request = self._request_in(args, kwargs)
        try:
            grant = self._grant_of_client(code, client, request)
        except Grant.DoesNotExist:
            return False
        if not grant.redirect_uri_allowed(redirect_uri):
            # RFC 6749 §5.2: a redirect URI that differs from the authorization request's is
            # invalid_grant (oauthlib would say invalid_request).
            raise InvalidGrantError(description="redirect_uri does not match the one the "
                                                "code was issued for.", request=request)
        return True

    def _validate_code_of_grant(self, code: str, client: Any, request: Any) -> bool:
        """The toolkit's validate_code, from the request's Grant."""
        try:
            grant = self._grant_of_client(code, client, request)
        except Grant.DoesNotExist:
            return False
        if grant.is_expired():
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    # --- how the user signed in (amr, acr, auth_time) and what a code gave -----------------

    def save_authorization_code(self, client_id: str, code: dict[str, Any], request: Any,
                                *args: Any, **kwargs: Any) -> None:
        """Rule: a code is kept in the shared cache (services.issue_code), not as the
        toolkit's Grant row, with how the user signed in and the decision just taken.
        PKCE with S256 only (RFC 9700 §2.1.1): a code is never issued for a "plain"
        challenge (oauthlib takes a challenge without a method as plain)."""
        if request.code_challenge_method == "plain":
            raise InvalidRequestError(
                description='Unsupported "plain" code_challenge_method; use "S256".',
                request=request)
        kept = getattr(request, KEPT_CREDENTIAL, None)
        expires = timezone.now() + datetime.timedelta(
            seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        services.issue_code(code["code"], CodeGrant(
            application_id=request.client.pk, user_id=request.user.pk, expires=expires,
            redirect_uri=request.redirect_uri, scope=" ".join(request.scopes),
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            nonce=request.nonce or "", claims=json.dumps(request.claims or {}),
            resource=list(getattr(request, "resource", None) or []),
            signin=getattr(request, SIGNIN_CREDENTIAL, None),
            epoch=kept[0] if kept is not None else None,
            decided_claims=kept[1] if kept is not None else None))

    def _check_and_set_request_resource(self, request: Any) -> None:
        """RFC 8707 at the token request, as the toolkit does it but against the code's
        resources from the cache: the token gets the resources the client asks for, which
        must be among the code's when the code has any, or else the code's."""
        if request.grant_type != "authorization_code":
            super()._check_and_set_request_resource(request)
            return
        asked = [value for key, value in (getattr(request, "decoded_body", None) or [])
                 if key == "resource"]
        self._validate_resource_uris(request, asked)
        found = self._code_grant(request.code, request)
        granted = list(found.resource) if found is not None else []
        for resource in asked:
            if granted and resource not in granted:
                raise CustomOAuth2Error(
                    error="invalid_target", request=request,
                    description=f"The requested resource '{resource}' is not allowed. Token "
                                "request cannot escalate resource permissions beyond the "
                                "original authorization grant")
        if not asked and granted:
            self._validate_resource_uris(request, granted)
        request.resource = asked or granted

    def _save_id_token(self, jti: Any, request: Any, expires: Any, *args: Any,
                       **kwargs: Any) -> Any:
        """The ID token's row, not yet saved: save_bearer_token saves it in the same
        transaction as the access token, after the code was redeemed."""
        return IDToken(user=request.user, scope=request.scope or " ".join(request.scopes),
                       expires=expires, jti=jti, application=request.client)

    def _create_access_token(self, expires: Any, request: Any, token: Any,
                             source_refresh_token: Any = None) -> Any:
        signed = token.get("id_token") if isinstance(token, dict) else None
        saved = getattr(request, "id_token", None)
        reset = _JUST_SIGNED.set((signed, saved) if signed and saved is not None else None)
        try:
            access_token = super()._create_access_token(
                expires, request, token, source_refresh_token=source_refresh_token)
        finally:
            _JUST_SIGNED.reset(reset)
        setattr(request, ACCESS_TOKEN_ATTR, access_token)
        return access_token

    def _load_id_token(self, token: str) -> Any:
        """The toolkit finds the ID token an access token belongs to by parsing the JWT,
        looking up the client's key, verifying the signature and reading the row by its jti:
        for the token this very request signed a moment ago, that row is already at hand."""
        just_signed = _JUST_SIGNED.get()
        if just_signed is not None and just_signed[0] == token:
            return just_signed[1]
        return super()._load_id_token(token)

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Rule: a code gives tokens once. It is redeemed (taken out of the cache in one
        atomic step, services.redeem_code) after every check passed and before anything is
        saved; a request that finds it gone at that moment lost a race with another
        redemption of the same code and gets invalid_grant. Then the ID token and the access
        token are saved in one transaction, the tokens noted for a replay and the decision
        kept with the access token."""
        code = request.code if request.grant_type == "authorization_code" else None
        if code is not None and not services.redeem_code(code):
            raise InvalidGrantError(description="The code has been used already.",
                                    request=request)
        with transaction.atomic(using=router.db_for_write(AccessToken)):
            id_token = getattr(request, "id_token", None)
            if id_token is not None and id_token.pk is None:
                id_token.save()
            result = self._save_bearer_token(token, request, *args, **kwargs)
        if code is not None:
            services.record_redeemed(code, getattr(request, ACCESS_TOKEN_ATTR, None), id_token)
        claims = getattr(request, CLAIMS_ATTR, None)
        if claims is not None and token.get("access_token"):
            services.keep_claims(token["access_token"], getattr(request, EPOCH_ATTR, None), claims,
                                 oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        return result

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any,
                                      *args: Any, **kwargs: Any) -> None:
        """Nothing left to do: save_bearer_token redeemed the code before it saved a token."""

    def get_id_token_dictionary(self, token: Any, token_handler: Any,
                                request: Any) -> tuple[dict[str, Any], Any]:
        """The toolkit's ID token claims with how the user signed in at /o/authorize: `amr`
        (the methods), `acr` (docs/publishers-oidc.md) and `auth_time` (when they last passed
        a sign-in step, not the account's last_login, which another device may have moved).
        Nothing recorded: acr "0" and no amr."""
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        found = self._code_grant(request.code, request) if getattr(request, "code", None) else None
        signin = found.signin if found is not None else None
        claims["acr"] = signin.acr if signin is not None and signin.acr else ACR_UNKNOWN
        if signin is not None and signin.amr:
            claims["amr"] = list(signin.amr)
        if signin is not None and signin.auth_time is not None:
            claims["auth_time"] = int(signin.auth_time)
        return claims, expiration

    # --- client authentication: the current secret, or the previous one during its overlap ---

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        """The toolkit's client authentication (Basic, then the body) against the current
        secret; failing that, the same credentials against the previous secret while its
        overlap after a rotation runs (selectors.previous_secret_accepted). The current secret
        is tried first, so a client that switched over costs nothing extra."""
        if super().authenticate_client(request, *args, **kwargs):
            return True
        for client_id, secret in self._presented_credentials(request):
            if not client_id or not secret:
                continue
            application = self._load_application(client_id, request)
            if application is not None and previous_secret_accepted(application, secret):
                return True
        return False

    def _presented_credentials(self, request: Any) -> list[tuple[str, str]]:
        """The (client id, secret) pairs the request presents: from the Basic header (decoded
        as the toolkit does), then from the body. Never logged."""
        pairs: list[tuple[str, str]] = []
        auth_string = self._extract_basic_auth(request)
        if auth_string:
            encoding = getattr(request, "encoding", None) or "utf-8"
            try:
                decoded = base64.b64decode(auth_string).decode(encoding)
                client_id, secret = map(unquote_plus, decoded.split(":", 1))
            except (TypeError, ValueError, binascii.Error, UnicodeDecodeError, LookupError):
                pass
            else:
                pairs.append((client_id, secret))
        client_id = getattr(request, "client_id", None) or ""
        secret = getattr(request, "client_secret", None) or ""
        pairs.append((str(client_id), str(secret)))
        return pairs

    # --- the Application once per authorization request, kept under the access epoch ----------

    def _load_application(self, client_id: str, request: Any) -> Any:
        """The toolkit's, with the Application as kept under the request's access epoch
        (klaspoort.kept): every pupil of the morning asks for the same few clients, and any
        change to an application (a new secret, a redirect URI, switched off) moves the epoch,
        so the next request reads it again. The toolkit's own checks (is_usable) still run."""
        if not getattr(request, "client", None) and client_id:
            request.client = _kept(request).get(
                application_key(str(client_id)),
                lambda: get_application_model().objects.filter(client_id=client_id).first())
        return super()._load_application(client_id, request)

    def validate_client_id(self, client_id: str, request: Any, *args: Any,
                           **kwargs: Any) -> bool:
        """At the authorization endpoint the toolkit validates the request (loading the
        Application) and then builds a second oauthlib request to create the code, which
        carries the first as `request.request`: its Application is reused (the toolkit's
        _load_application still checks the client id and is_usable) instead of read again."""
        if not getattr(request, "client", None):
            previous = getattr(request, "request", None)
            if isinstance(previous, OauthlibRequest) and previous is not request:
                application = getattr(previous, "client", None)
                if (isinstance(application, AbstractApplication)
                        and application.client_id == client_id):
                    request.client = application
        return bool(super().validate_client_id(client_id, request, *args, **kwargs))

    def validate_grant_type(self, client_id: str, grant_type: str, client: Any, request: Any,
                            *args: Any, **kwargs: Any) -> bool:
        """Rule: the authorization code grant only; client credentials, password, refresh and
        device grants sign no user in through Klaspoort's rules, so they are refused."""
        if grant_type != "authorization_code":
            return False
        return bool(super().validate_grant_type(client_id, grant_type, client, request,
                                                *args, **kwargs))

    def validate_response_type(self, client_id: str, response_type: str, client: Any,
                               request: Any, *args: Any, **kwargs: Any) -> bool:
        """Rule: response_type=code only (no implicit or hybrid flow puts tokens in a URL)."""
        if response_type != "code":
            return False
        return bool(super().validate_response_type(client_id, response_type, client, request,
                                                   *args, **kwargs))

    def validate_code(self, client_id: str, code: str, client: Any, request: Any,
                      *args: Any, **kwargs: Any) -> bool:
        """Rule: a code is redeemed only while the user still may sign in at the publisher
        (consent, licence); otherwise the publisher gets invalid_grant."""
        if not self._validate_code_of_grant(code, client, request):
            if self._grant_by_code(code, request) is None:
                # Unknown: never issued, expired and cleaned up, or redeemed already. If it was
                # redeemed, whoever presents it again may have stolen it: revoke what it gave.
                services.revoke_replayed(code)
            return False
        # The request's one epoch, read before anything the decision is made of (klaspoort.epochs:
        # the order matters), the same the client was kept under.
        epoch = _kept(request).epoch
        setattr(request, EPOCH_ATTR, epoch)
        found = self._code_grant(code, request)
        if (found is not None and epoch is not None and found.epoch == epoch
                and found.decided_claims is not None):
            # Nothing a decision reads has changed since /o/authorize took this one.
            setattr(request, CLAIMS_ATTR, found.decided_claims)
            return True
        decision = decide(client_of_application(client), request.user)
        if decision.refusal:
            return False
        setattr(request, DECISION_ATTR, decision)
        return True

    def _decision(self, request: Any) -> Decision:
        decision: Decision | None = getattr(request, DECISION_ATTR, None)
        if decision is None:
            decision = decide(client_of_application(request.client), request.user)
            setattr(request, DECISION_ATTR, decision)
        return decision

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        """The claims, as of the moment of the call: at userinfo a consent withdrawn or a
        contract ended since the token was issued answers 403 access_denied. The decision kept
        with the code or the access token answers while nothing it read has changed."""
        claims: dict[str, Any] | None = getattr(request, CLAIMS_ATTR, None)
        if claims is not None:
            return claims
        access_token = getattr(request, "access_token", None)
        if getattr(request, DECISION_ATTR, None) is None and access_token is not None:
            # userinfo: the epoch first, then (when the kept claims do not hold) the rules.
            epoch = _kept(request).epoch
            setattr(request, EPOCH_ATTR, epoch)
            # The toolkit keeps only the token's checksum, which is its secret_digest.
            claims = kept_claims(str(getattr(access_token, "token_checksum", "") or ""),
                                 epoch)
            if claims is not None:
                setattr(request, CLAIMS_ATTR, claims)
                return claims
        decision = self._decision(request)
        if decision.refusal:
            raise CustomOAuth2Error("access_denied", description=decision.message,
                                    status_code=403, request=request)
        claims = claims_for(decision, request.user.pk)
        setattr(request, CLAIMS_ATTR, claims)
        return claims

    def validate_silent_authorization(self, request: Any) -> bool:
        """prompt=none: there is no consent screen to skip (the school's consent is the
        approval, checked by sso.views.AuthorizeView), so a silent authorization is allowed."""
        return True

    def validate_silent_login(self, request: Any) -> bool:
        # AuthorizeView runs the validation only for a signed-in user; without a session it
        # answers login_required itself.
        return True

    def get_discovery_claims(self, request: Any) -> list[str]:
        return list(CLAIM_SCOPES)
