"""Opening a tile (launch) and the OpenID Connect endpoints that carry Klaspoort's rules."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView, UserInfoView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import add_params_to_uri

from klaspoort.licences.models import Product
from klaspoort.licences.selectors import access_for_user
from klaspoort.schools.models import Publisher
from klaspoort.signin.session import ip_rule_holds
from klaspoort.sso import selectors
from klaspoort.sso.claims import CLAIM_SCOPES
from klaspoort.sso.models import PublisherClient


def refusal_page(request: HttpRequest, message: str, publisher: Publisher | None = None,
                 product_name: str = "") -> HttpResponse:
    """The Dutch page that says why a method cannot be opened (R4.5)."""
    return render(request, "sso/refused.html",
                  {"message": message, "publisher": publisher, "product_name": product_name},
                  status=403)


class Refused(Exception):
    def __init__(self, message: str, client: PublisherClient | None,
                 credentials: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.client = client
        self.credentials = credentials


class AuthorizeView(AuthorizationView):
    """The authorization endpoint with Klaspoort's rules between the toolkit's checks of the
    client and redirect URI (whose errors it shows itself) and the code.

    GET only: publisher clients skip the consent form (the school's consent is the approval), so
    the toolkit's POST, which would skip these rules, has no use.
    """

    http_method_names = ["get"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (not request.user.is_authenticated
                and "none" in request.GET.get("prompt", "").split()):
            return self._login_required(request)
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response

    def _login_required(self, request: HttpRequest) -> HttpResponse:
        """prompt=none without a session: no sign-in page, but login_required at the
        publisher's redirect URI once the toolkit has checked the client and that URI."""
        self.oauth2_data: dict[str, Any] = {}
        try:
            _scopes, credentials = OAuthLibMixin.validate_authorization_request(self, request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        params = [("error", "login_required")]
        if credentials.get("state"):
            params.append(("state", credentials["state"]))
        return self.redirect(add_params_to_uri(credentials["redirect_uri"], params), None)

    def validate_authorization_request(self, request: HttpRequest) -> Any:
        scopes, credentials = super().validate_authorization_request(request)
        client = selectors.client_for(credentials["client_id"])
        hint = request.GET.get("login_hint")
        if client is not None and hint:
            hint_refusal = selectors.login_hint_refusal(hint, request.user, client.publisher_id)
            if hint_refusal:
                raise Refused(str(selectors.REFUSALS[hint_refusal]), client, credentials)
        decision = selectors.decide(client, request.user, request)
        if decision.refusal:
            raise Refused(decision.message, client, credentials)
        return scopes, credentials

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().get(request, *args, **kwargs)
        except Refused as refused:
            if "none" in request.GET.get("prompt", "").split():
                # prompt=none: the publisher asked for no page at all, so it gets the answer
                # (OIDC Core §3.1.2.6), at the redirect URI the toolkit has already checked.
                params = [("error", "access_denied"), ("error_description", refused.message)]
                if refused.credentials.get("state"):
                    params.append(("state", refused.credentials["state"]))
                application = refused.client.application if refused.client else None
                return self.redirect(
                    add_params_to_uri(refused.credentials["redirect_uri"], params), application)
            return refusal_page(request, refused.message,
                                refused.client.publisher if refused.client else None)
        return response


CLAIM_SCOPES_SUPPORTED = sorted(set(CLAIM_SCOPES.values()))


class DiscoveryView(ConnectDiscoveryInfoView):
    """The toolkit's discovery document, saying only what Klaspoort accepts: ID tokens are
    signed with RS256 (never HS256 with a client secret), PKCE with S256 only."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        data["code_challenge_methods_supported"] = ["S256"]
        data["grant_types_supported"] = ["authorization_code"]
        data["scopes_supported"] = list(CLAIM_SCOPES_SUPPORTED)
        response.content = json.dumps(data).encode()
        response["Content-Length"] = str(len(response.content))
        return response


class UserInfo(UserInfoView):
    """The toolkit's userinfo endpoint; its refusals (403 access_denied when the school no
    longer consents or the licence ended) are JSON like every other answer, never cached."""

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = super()._create_userinfo_response(request)
        if response.status_code != 200 and response.content.startswith(b"{"):
            response["Content-Type"] = "application/json"
        response["Cache-Control"] = "no-store"
        return response


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


@login_required
def launch(request: HttpRequest, product_id: int) -> HttpResponse:
    """Open a tile: third-party initiated login at the publisher (OIDC Core §4).

    Rules: the user may open the product now (access_for_user: consent, licence, contract
    dates) and, for pupils, the IP rule holds; otherwise the refusal page says why. A product
    without a launch address gets a page saying the publisher has not set up its link.
    """
    product = get_object_or_404(Product.objects.select_related("publisher"), pk=product_id)
    access = access_for_user(request.user)
    if access is None:
        return refusal_page(request, str(selectors.REFUSALS[selectors.NOT_ON_ROSTER]),
                            product.publisher, product.name)
    if not access.may_open(product.pk):
        denied = next((d for d in access.denied if d.product.id == product.pk), None)
        message = denied.message if denied else str(selectors.REFUSALS[selectors.NO_LICENCE])
        return refusal_page(request, message, product.publisher, product.name)
    if not ip_rule_holds(request, request.user):
        return refusal_page(request, str(selectors.REFUSALS[selectors.IP_RULE]),
                            product.publisher, product.name)
    if not product.launch_url:
        return render(request, "sso/not_set_up.html", {"product": product}, status=404)
    default_target = (PublisherClient.objects.filter(publisher_id=product.publisher_id)
                      .exclude(default_target_uri="").order_by("pk")
                      .values_list("default_target_uri", flat=True).first())
    return HttpResponseRedirect(_with_query(product.launch_url, {
        "iss": settings.OIDC_ISSUER,
        "login_hint": selectors.login_hint_for(request.user, product.publisher_id),
        "target_link_uri": default_target or product.launch_url,
    }))
