"""django-oauth-toolkit's validator and server, narrowed to what publishers' software needs.

Only the authorization code flow (with PKCE, required in settings), no refresh tokens, and the
Klaspoort rules (selectors.decide) asked again when the code is redeemed and at every userinfo
call.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error
from oauthlib.openid import Server

from klaspoort.sso.claims import CLAIM_SCOPES, claims_for
from klaspoort.sso.selectors import Decision, client_of_application, decide

DECISION_ATTR = "klaspoort_decision"


class NoRefreshTokenServer(Server):
    """oauthlib's OpenID Connect server without refresh tokens: a publisher signs a user in
    again through Klaspoort (which asks the rules again) rather than keeping a token that
    outlives a withdrawn consent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auth_grant.refresh_token = False
        self.openid_connect_auth.refresh_token = False
        self.openid_connect_hybrid.refresh_token = False


class KlaspoortValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

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
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
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
        """The claims, computed at the moment of the call: at userinfo a consent withdrawn or a
        contract ended since the token was issued answers 403 access_denied."""
        decision = self._decision(request)
        if decision.refusal:
            raise CustomOAuth2Error("access_denied", description=decision.message,
                                    status_code=403, request=request)
        return claims_for(decision, request.user.pk)

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
