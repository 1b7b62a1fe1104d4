"""The publisher portal's *API-sleutels* page: a publisher's admins issue and revoke the tokens
its software uses for the publisher API. Shown in the portal (licences.publisher_views renders
the tabs); the tokens are this app's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from klaspoort.exchange import oneroster_auth
from klaspoort.exchange import services as tokens
from klaspoort.exchange.models import OneRosterClient, PublisherApiToken
from klaspoort.licences.guards import publisher_view
from klaspoort.licences.publisher_views import ADMIN, PublisherRequest, publisher_render


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy(
                               "So you can tell your tokens apart, e.g. “CRM koppeling”."))



# ---------------------------------------------------------------------------------------------
# API tokens


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def tokens_page(request: PublisherRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    plain = None
    if request.method == "POST" and form.is_valid():
        _row, plain = tokens.issue_token(request.publisher, form.cleaned_data["name"],
                                         actor=request.user, request=request)
        form = TokenForm()
    rows = PublisherApiToken.objects.filter(publisher=request.publisher)
    response = publisher_render(request, "licences/publisher/tokens.html", {
        "form": form, "tokens": rows, "plain_token": plain,
        "docs_url": "/api/docs"}, status=400 if form.errors else 200)
    # The token is shown once: no copy of this page may be kept by a cache or the history.
    add_never_cache_headers(response)
    return response


@publisher_view(roles=ADMIN)
@require_POST
def token_revoke(request: PublisherRequest, token_id: int) -> HttpResponse:
    row = tokens.revoke_token(request.publisher, token_id, actor=request.user, request=request)
    if row is None:
        raise Http404
    messages.success(request, _("Token %(name)s has been revoked.") % {"name": row.name})
    return redirect("exchange:tokens", slug=request.publisher.slug)


# ---------------------------------------------------------------------------------------------
# OneRoster clients (decision 0033): OAuth 2.0 client credentials for the OneRoster 1.2 API


class OneRosterClientForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy(
                               "So you can tell your clients apart, e.g. “LMS rostering”."))


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def oneroster_clients_page(request: PublisherRequest) -> HttpResponse:
    form = OneRosterClientForm(request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        created, secret = oneroster_auth.issue_client(
            request.publisher, form.cleaned_data["name"], actor=request.user, request=request)
        form = OneRosterClientForm()
    rows = OneRosterClient.objects.filter(publisher=request.publisher)
    response = publisher_render(request, "licences/publisher/oneroster_clients.html", {
        "form": form, "clients": rows, "created": created, "secret": secret,
        "token_url": request.build_absolute_uri("/ims/oneroster/token"),
        "base_url": request.build_absolute_uri("/ims/oneroster/rostering/v1p2"),
        "scopes": oneroster_auth.GRANTABLE}, status=400 if form.errors else 200)
    # The secret is shown once: no copy of this page may be kept by a cache or the history.
    add_never_cache_headers(response)
    return response


@publisher_view(roles=ADMIN)
@require_POST
def oneroster_client_revoke(request: PublisherRequest, client_id: int) -> HttpResponse:
    row = oneroster_auth.revoke_client(request.publisher, client_id, actor=request.user,
                                       request=request)
    if row is None:
        raise Http404
    messages.success(request, _("OneRoster client %(name)s has been revoked.")
                     % {"name": row.name})
    return redirect("exchange:oneroster_clients", slug=request.publisher.slug)
