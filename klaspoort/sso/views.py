"""Opening a tile (launch) and the OpenID Connect endpoints that carry Klaspoort's rules."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from oauth2_provider import views as oauth_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView, UserInfoView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import add_params_to_uri

from klaspoort.kept import Kept
from klaspoort.licences.access import kept_access_for_user
from klaspoort.licences.models import Product
from klaspoort.roster.models import Pupil
from klaspoort.schools.models import Publisher, School
from klaspoort.signin.selectors import tile_label
from klaspoort.signin.services import PUPIL_NAME
from klaspoort.signin.session import AT_HOME, SIGNIN_KIND, SIGNIN_SCHOOL, ip_rule_holds
from klaspoort.sso import selectors
from klaspoort.sso.claims import CLAIM_SCOPES, claims_for
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.validators import KEPT_CREDENTIAL, SIGNIN_CREDENTIAL


def refusal_page(request: HttpRequest, message: str, publisher: Publisher | None = None,
                 product_name: str = "") -> HttpResponse:
    """The Dutch page that says why a method cannot be opened (R4.5).

    A pupil gets the pupil layout: their own name and *Uitloggen* (never the staff header with
    its *Overal uitloggen*), short words and one big way back to *Lesmateriaal* (issue 11,
    item 5). The reason for adults stays on the staff page."""
    context = {"message": message, "publisher": publisher, "product_name": product_name}
    if getattr(request.user, "kind", "") == "pupil":
        return render(request, "sso/refused_pupil.html",
                      {**context, "pupil_name": _pupil_name(request)}, status=403)
    return render(request, "sso/refused.html", context, status=403)


def _pupil_name(request: HttpRequest) -> str:
    """The name the pupil chose at sign-in ("Zoë J."), else their roster name: never empty."""
    name = request.session.get(PUPIL_NAME, "")
    if not name:
        pupil = (Pupil.objects.filter(user_id=request.user.pk or 0)
                 .only("first_name", "last_name").first())
        name = tile_label(pupil.first_name, pupil.last_name) if pupil else ""
    return str(name)


class Refused(Exception):
    def __init__(self, message: str, client: PublisherClient | None,
                 credentials: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.client = client
        self.credentials = credentials


class SignInAgain(Exception):
    """prompt=login or an exceeded max_age: the user must prove who they are again."""

    def __init__(self, client: PublisherClient | None, credentials: dict[str, Any]) -> None:
        super().__init__("sign in again")
        self.client = client
        self.credentials = credentials


def _with_iss(request: HttpRequest, url: str) -> str:
    """RFC 9207: the authorization response names its issuer, so a client talking to several
    providers can tell whose answer it got (mix-up attacks); errors too."""
    if "iss" in dict(parse_qsl(urlsplit(url).query)):
        return url
    return add_params_to_uri(url, [("iss", oauth2_settings.oidc_issuer(request))])


def _without_sign_in_again(request: HttpRequest) -> str:
    """This authorization request without prompt=login and max_age, to continue with once the
    user has signed in again (else the fresh sign-in would be asked for again, forever)."""
    query = []
    for key, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True):
        if key == "max_age":
            continue
        if key == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        query.append((key, value))
    return f"{request.path}?{urlencode(query)}"


def sign_in_page(request: HttpRequest, client: PublisherClient | None) -> str:
    """Where this session's user signs in again: a pupil on the page they signed in on (the
    school's pupil page, or home sign-in), going on to one of the publisher's methods; staff
    on the staff sign-in, coming back to this authorization request."""
    user = request.user
    if getattr(user, "kind", None) == "pupil":
        school_id = request.session.get(SIGNIN_SCHOOL)
        school = School.objects.filter(pk=school_id).first() if school_id else None
        product = None
        if client is not None:
            product = (Product.objects.filter(publisher_id=client.publisher_id)
                       .exclude(launch_url="").order_by("pk").first())
        query = f"?{urlencode({'next': product.pk})}" if product else ""
        if school is None:
            return reverse("signin:home_school") + query
        if request.session.get(SIGNIN_KIND) == AT_HOME and school.home_signin_enabled:
            return reverse("signin:home_page", args=[school.public_id]) + query
        return reverse("signin:pupil_page", args=[school.pupil_page_ref]) + query
    return f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': _without_sign_in_again(request)})}"


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

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        """Every answer sent to the publisher's redirect URI, errors included, carries `iss`
        (RFC 9207; a strict client drops an answer without it)."""
        response: HttpResponse = super().redirect(_with_iss(self.request, redirect_to),
                                                   application)
        return response

    def validate_authorization_request(self, request: HttpRequest) -> Any:
        # The request's one epoch, read before anything the decision is made of, whether it is
        # read from the database or as kept under that epoch (klaspoort.epochs: the order
        # matters, and kept facts and the kept decision must share it).
        epoch = Kept.of(request).epoch
        selectors.prefetch_sign_in_facts(request, client_id=request.GET.get("client_id"))
        with Kept.of(request).serving():  # the toolkit's validator reads the client kept
            scopes, credentials = super().validate_authorization_request(request)
        client = selectors.client_for(credentials["client_id"], Kept.of(request))
        if selectors.must_sign_in_again(request, set(request.GET.get("prompt", "").split()),
                                        request.GET.get("max_age")):
            raise SignInAgain(client, credentials)
        # The token endpoint has no browser session: how the user signed in travels with the
        # code (KlaspoortValidator.save_authorization_code) into the ID token's amr and acr.
        credentials[SIGNIN_CREDENTIAL] = selectors.signin_of(request)
        hint = request.GET.get("login_hint")
        if client is not None and hint:
            hint_refusal = selectors.login_hint_refusal(hint, request.user, client.publisher_id)
            if hint_refusal:
                raise Refused(str(selectors.REFUSALS[hint_refusal]), client, credentials)
        decision = selectors.decide(client, request.user, request)
        if decision.refusal:
            raise Refused(decision.message, client, credentials)
        if epoch is not None and request.user.pk is not None:
            # The token and userinfo requests reuse this decision while nothing changed.
            credentials[KEPT_CREDENTIAL] = (epoch, claims_for(decision, request.user.pk,
                                                                  Kept.of(request)))
        return scopes, credentials

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().get(request, *args, **kwargs)
        except SignInAgain as again:
            if "none" in request.GET.get("prompt", "").split():
                # max_age passed with prompt=none: no page may be shown (OIDC Core §3.1.2.6).
                params = [("error", "login_required")]
                if again.credentials.get("state"):
                    params.append(("state", again.credentials["state"]))
                return self.redirect(add_params_to_uri(again.credentials["redirect_uri"], params),
                                     again.client.application if again.client else None)
            # On a shared school device the previous user must not pass silently: end their
            # session before anyone signs in.
            target = sign_in_page(request, again.client)
            logout(request)
            return HttpResponseRedirect(target)
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


# Claims of the ID token besides those a scope releases (docs/publishers-oidc.md).
ID_TOKEN_CLAIMS = ["iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "acr", "amr",
                   "jti"]


class DiscoveryView(ConnectDiscoveryInfoView):
    """The toolkit's discovery document, saying only what Klaspoort accepts: ID tokens are
    signed with RS256 (never HS256 with a client secret), PKCE with S256 only, the code grant
    only (no device flow), every authorization response carries `iss` (RFC 9207); plus the
    revocation endpoint, the acr values and every claim."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        data["code_challenge_methods_supported"] = ["S256"]
        data["grant_types_supported"] = ["authorization_code"]
        data["scopes_supported"] = list(CLAIM_SCOPES_SUPPORTED)
        data["authorization_response_iss_parameter_supported"] = True
        data["revocation_endpoint"] = self._get_endpoint_url(request, "revoke-token",
                                                             required=True)
        data["revocation_endpoint_auth_methods_supported"] = (
            data["token_endpoint_auth_methods_supported"])
        data["acr_values_supported"] = list(selectors.ACR_VALUES)
        data["claims_supported"] = sorted(set(CLAIM_SCOPES) | set(ID_TOKEN_CLAIMS))
        data["claims_parameter_supported"] = False
        data["request_parameter_supported"] = False
        data["request_uri_parameter_supported"] = False
        for device_key in ("device_authorization_endpoint", "registration_endpoint"):
            data.pop(device_key, None)
        response.content = json.dumps(data).encode()
        response["Content-Length"] = str(len(response.content))
        return response


def _bearer_challenge(error: str) -> str:
    return f'Bearer realm="Klaspoort", error="{error}"'


class UserInfo(UserInfoView):
    """The toolkit's userinfo endpoint; its refusals (403 access_denied when the school no
    longer consents or the licence ended) are JSON like every other answer, never cached, and
    say what is wrong in `WWW-Authenticate` (RFC 6750 §3).

    Rule: the access token only in the Authorization header. A token in the query string ends
    up in logs and browser histories (RFC 9700 §2.5), and one in a form body is as easily
    mishandled, so both are refused with invalid_request, whatever the token."""

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponse:
        if "access_token" in request.GET or "access_token" in request.POST:
            response = HttpResponse(
                json.dumps({"error": "invalid_request",
                            "error_description": "Send the access token in the Authorization "
                                                 "header (Bearer), never in the URL or body."}),
                status=400, content_type="application/json")
            response["WWW-Authenticate"] = _bearer_challenge("invalid_request")
        else:
            response = super()._create_userinfo_response(request)
        if response.status_code >= 400:
            error = "invalid_token"
            if response.content.startswith(b"{"):
                response["Content-Type"] = "application/json"
                error = str(json.loads(response.content).get("error", error))
            if not re.fullmatch(r"[a-z_]{1,64}", error):
                error = "invalid_token"
            response["WWW-Authenticate"] = _bearer_challenge(error)
        response["Cache-Control"] = "no-store"
        return response


class TokenView(oauth_views.TokenView):
    """The toolkit's token endpoint for the authorization code grant only.

    The toolkit would answer a device-code grant from its device-flow table (Klaspoort has no
    device flow, and a request without device_code gave a 500): every request goes to the
    oauthlib server, which knows only the code grant. A client that fails to authenticate gets
    401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2: the scheme of the token endpoint, not
    oauthlib's Bearer)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = self._token_response(request)
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'Basic realm="Klaspoort"'
        response["Cache-Control"] = "no-store"
        return response

    def _token_response(self, request: HttpRequest) -> HttpResponse:
        """The toolkit's authorization_flow_token_response, which reads the new access token
        back only to send `app_authorized`: read here only when someone listens to it."""
        _url, headers, body, status = self.create_token_response(request)
        if status == 200 and app_authorized.has_listeners():
            access_token = json.loads(body).get("access_token")
            if access_token is not None:
                token = get_access_token_model().objects.get(
                    token_checksum=selectors.secret_digest(access_token))
                app_authorized.send(sender=self, request=request, token=token)
        # Every answer of the token endpoint is JSON, also a refusal raised after the checks
        # (a code redeemed meanwhile), whose headers oauthlib leaves without a content type.
        response = HttpResponse(content=body, status=status, content_type="application/json")
        for key, value in headers.items():
            response[key] = value
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
    without a launch address gets a page saying the publisher has not set up its link. The
    browser goes to the login address of the publisher's client when it has one, else to the
    product's launch address (selectors.launch_of).
    """
    # The product, the access rule's answer, the school's networks and the publisher's
    # clients as kept under the access epoch (klaspoort.kept): any change to them counts at
    # the next launch all the same.
    kept = Kept.of(request)
    selectors.prefetch_sign_in_facts(request, product_id=product_id)
    product = selectors.launch_product(product_id, kept)
    if product is None:
        raise Http404
    access = kept_access_for_user(request.user, kept)
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
        if getattr(request.user, "kind", "") == "pupil":  # the pupil layout, as refusal_page
            return render(request, "sso/refused_pupil.html", {
                "product_name": product.name, "pupil_name": _pupil_name(request),
                "message": _("%(publisher)s has not set up the link to %(product)s in "
                             "Klaspoort yet.") % {"publisher": product.publisher.name,
                                                  "product": product.name}}, status=404)
        return render(request, "sso/not_set_up.html", {"product": product}, status=404)
    launch_to = selectors.launch_of(product.publisher_id, product.launch_url, kept)
    return HttpResponseRedirect(_with_query(launch_to.initiate_login_uri, {
        "iss": settings.OIDC_ISSUER,
        "login_hint": selectors.login_hint_for(request.user, product.publisher_id),
        "target_link_uri": launch_to.target_link_uri,
    }))
