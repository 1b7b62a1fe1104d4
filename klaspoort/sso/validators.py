"""django-oauth-toolkit's validator and server, narrowed to what publishers' software needs.

Only the authorization code flow (with PKCE, required in settings), no refresh tokens, and the
Klaspoort rules (selectors.decide) asked again when the code is redeemed and at every userinfo
call, unless nothing they read has changed since /o/authorize decided (decision 0039: the
claims are kept with the code and the access token, with the access epoch).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
from typing import Any
from urllib.parse import unquote_plus

from oauth2_provider.models import AbstractApplication, get_grant_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error, InvalidGrantError
from oauthlib.openid import Server

from klaspoort.sso import services
from klaspoort.sso.claims import CLAIM_SCOPES, claims_for
from klaspoort.sso.models import IssuedCode
from klaspoort.sso.selectors import (
    ACR_UNKNOWN,
    Decision,
    client_of_application,
    decide,
    decision_epoch,
    kept_claims,
    previous_secret_accepted,
    secret_digest,
)

DECISION_ATTR = "klaspoort_decision"
GRANT_ATTR = "_klaspoort_grant"
# The authorization view puts the session's SignIn among the credentials; oauthlib copies
# them onto its request, where save_authorization_code finds it.
SIGNIN_CREDENTIAL = "klaspoort_signin"
ISSUED_ATTR = "_klaspoort_issued_code"
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

    Speed: the toolkit reads the same Grant once per question at the token endpoint (scopes,
    code, PKCE challenge and method, redirect URI, nonce). Here it is read once per oauthlib
    request (with its user) and every question is answered from that row, each with the
    toolkit's own answer when the code is unknown or belongs to another client. The rules that
    guard a code are unchanged: expiry is checked in validate_code, and
    invalidate_authorization_code (the toolkit's) still deletes the row and refuses a code that
    is already gone, so a code redeemed twice still fails.
    """

    oidc_claim_scope = CLAIM_SCOPES

    # --- one Grant per oauthlib request --------------------------------------------------------

    @staticmethod
    def _grant_by_code(code: str, request: Any) -> Any:
        """The Grant of `code` whichever client it belongs to (codes are unique), or None; read
        once per oauthlib request."""
        if not isinstance(request, OauthlibRequest):
            return Grant.objects.select_related("user").filter(code=code).first()
        cached = getattr(request, GRANT_ATTR, None)
        if cached is not None and cached[0] == code:
            return cached[1]
        grant = Grant.objects.select_related("user").filter(code=code).first()
        setattr(request, GRANT_ATTR, (code, grant))
        return grant

    def _grant_of_client(self, code: str, client: Any, request: Any) -> Any:
        """What Grant.objects.get(code=code, application=client) returns, from the request's
        Grant; raises Grant.DoesNotExist when the code is unknown or another client's."""
        if not isinstance(request, OauthlibRequest) or not isinstance(client,
                                                                      AbstractApplication):
            return Grant.objects.get(code=code, application=client)
        grant = self._grant_by_code(code, request)
        if grant is None or client.pk is None or grant.application_id != client.pk:
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
        if request is None:
            return bool(super().confirm_redirect_uri(client_id, code, redirect_uri, client,
                                                     *args, **kwargs))
        grant = self._grant_of_client(code, client, request)
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
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        signin = getattr(request, SIGNIN_CREDENTIAL, None)
        if signin is not None:
            services.remember_code(code["code"], signin)
        kept = getattr(request, KEPT_CREDENTIAL, None)
        if kept is not None:
            services.keep_claims("code", code["code"], kept[0], kept[1],
                                 oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)

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
        result = super().save_bearer_token(token, request, *args, **kwargs)
        issued = getattr(request, ISSUED_ATTR, None)
        if issued is not None:
            services.record_issued(issued, getattr(request, ACCESS_TOKEN_ATTR, None),
                                   getattr(request, "id_token", None))
        claims = getattr(request, CLAIMS_ATTR, None)
        if claims is not None and token.get("access_token"):
            services.keep_claims("token", token["access_token"], getattr(request, EPOCH_ATTR, None),
                                 claims, oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        return result

    def get_id_token_dictionary(self, token: Any, token_handler: Any,
                                request: Any) -> tuple[dict[str, Any], Any]:
        """The toolkit's ID token claims with how the user signed in at /o/authorize: `amr`
        (the methods), `acr` (docs/publishers-oidc.md) and `auth_time` (when they last passed
        a sign-in step, not the account's last_login, which another device may have moved).
        Nothing recorded: acr "0" and no amr."""
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        issued: IssuedCode | None = getattr(request, ISSUED_ATTR, None)
        claims["acr"] = issued.acr if issued is not None and issued.acr else ACR_UNKNOWN
        if issued is not None and issued.amr:
            claims["amr"] = list(issued.amr)
        if issued is not None and issued.auth_time is not None:
            claims["auth_time"] = int(issued.auth_time.timestamp())
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

    # --- the Application once per authorization request ---------------------------------------

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
        # Read before anything the decision is made of (klaspoort.epochs: the order matters).
        epoch = decision_epoch()
        setattr(request, EPOCH_ATTR, epoch)
        setattr(request, ISSUED_ATTR,
                IssuedCode.objects.filter(code_hash=services.code_hash(code)).first())
        claims = kept_claims("code", secret_digest(code), epoch)
        if claims is not None:
            setattr(request, CLAIMS_ATTR, claims)
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
            epoch = decision_epoch()
            setattr(request, EPOCH_ATTR, epoch)
            # The toolkit keeps only the token's checksum, which is its secret_digest.
            claims = kept_claims("token", str(getattr(access_token, "token_checksum", "") or ""),
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
