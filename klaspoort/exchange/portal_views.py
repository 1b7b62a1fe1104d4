"""The publisher portal's *API-sleutels* page: a publisher's admins issue and revoke the tokens
its software uses for the publisher API (and OneRoster clients); and its *Webhook* page (one
URL, its signing secret, the delivery log). Shown in the portal (licences.publisher_views renders
the tabs); the tokens are this app's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from klaspoort.admin_area import Confirmation, ask_first, go_to, is_confirmed
from klaspoort.exchange import oneroster_auth, webhooks
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


# Webhook (decision 0034): one URL per publisher, notified when its feed has new events.


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Webhook address"), max_length=webhooks.MAX_URL_LENGTH,
        error_messages={"required": gettext_lazy("Enter the address of your webhook.")},
        help_text=gettext_lazy("Begins with https://. Klaspoort posts a signed notice here "
                               "when your feed has new events."))

    def clean_url(self) -> str:
        return webhooks.clean_url(self.cleaned_data["url"])


def _webhook_page(request: PublisherRequest, form: WebhookForm, *,
                  plain_secret: str | None = None) -> HttpResponse:
    webhook = webhooks.webhook_of(request.publisher)
    response = publisher_render(request, "licences/publisher/webhook.html", {
        "form": form, "webhook": webhook, "plain_secret": plain_secret,
        "deliveries": webhooks.recent_deliveries(webhook) if webhook else [],
        "signature_header": webhooks.SIGNATURE_HEADER, "id_header": webhooks.ID_HEADER,
    }, status=400 if form.errors else 200)
    # The secret is shown once: no copy of this page may be kept by a cache or the history.
    add_never_cache_headers(response)
    return response


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def webhook_page(request: PublisherRequest) -> HttpResponse:
    current = webhooks.webhook_of(request.publisher)
    if request.method != "POST":
        return _webhook_page(request, WebhookForm(initial={"url": current.url} if current
                                                  else None))
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _webhook_page(request, form)
    try:
        _webhook, plain = webhooks.save_url(request.publisher, form.cleaned_data["url"],
                                            actor=request.user, request=request)
    except ValidationError as error:
        form.add_error("url", error)
        return _webhook_page(request, form)
    if plain is not None:
        return _webhook_page(request, WebhookForm(initial={"url": form.cleaned_data["url"]}),
                             plain_secret=plain)
    messages.success(request, _("The webhook address has been saved."))
    return redirect("exchange:webhook", slug=request.publisher.slug)


def _ask_first(request: PublisherRequest, *, title: str, consequences: list[str],
               yes: str) -> HttpResponse:
    """Both actions below cannot be undone from the portal: they ask first (decision 0025)."""
    back = reverse("exchange:webhook", kwargs={"slug": request.publisher.slug})
    return ask_first(request, Confirmation(title=title, consequences=consequences, yes=yes,
                                           action=request.path, back=back, fields=[]),
                     lambda template, context: publisher_render(
                         request, f"licences/publisher/{template}", context))


@publisher_view(roles=ADMIN)
@require_POST
def webhook_new_secret(request: PublisherRequest) -> HttpResponse:
    current = webhooks.webhook_of(request.publisher)
    if current is None:
        raise Http404
    if not is_confirmed(request):
        return _ask_first(
            request, title=_("Make a new signing secret?"),
            consequences=[_("The current secret stops working at once: every notice after "
                            "this is signed with the new secret only. Put the new secret in "
                            "your system straight away, or it will refuse the notices.")],
            yes=_("Yes, make a new secret"))
    plain = webhooks.rotate_secret(request.publisher, actor=request.user, request=request)
    if plain is None:
        raise Http404
    return _webhook_page(request, WebhookForm(initial={"url": current.url}), plain_secret=plain)


@publisher_view(roles=ADMIN)
@require_POST
def webhook_remove(request: PublisherRequest) -> HttpResponse:
    current = webhooks.webhook_of(request.publisher)
    if current is None:
        raise Http404
    if not is_confirmed(request):
        return _ask_first(
            request, title=_("Remove the webhook?"),
            consequences=[
                _("Klaspoort stops sending notices to %(url)s at once, also the one that is "
                  "waiting.") % {"url": current.url},
                _("The signing secret and the delivery log are deleted. If you register an "
                  "address again, you get a new secret.")],
            yes=_("Yes, remove the webhook"))
    webhooks.remove_webhook(request.publisher, actor=request.user, request=request)
    messages.success(request, _("The webhook has been removed: no more notices are sent."))
    return go_to(request, reverse("exchange:webhook", kwargs={"slug": request.publisher.slug}))
