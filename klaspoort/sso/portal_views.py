"""The publisher portal's *Inloggen (OIDC)* pages: a publisher's admins manage their own
single sign-on clients (addresses, a new secret with overlap, switching off, deleting).

Shown among the portal's tabs (licences.publisher_views renders them); the clients are this
app's. Every client is looked up among request.publisher's (selectors.clients_of), so another
publisher's client is a 404. What the data agreement decides (name in the claims, ECK iD chain
partner) is shown, not changed: that stays with Klaspoort's operators.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort.admin_area import Confirmation, ask_first, go_to, is_confirmed
from klaspoort.licences.guards import publisher_view
from klaspoort.licences.publisher_views import ADMIN, PublisherRequest, publisher_render
from klaspoort.sso import selectors, services
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.portal_forms import CONFIDENTIAL, ClientForm, NewClientForm


def _client(request: PublisherRequest, client_id: int) -> PublisherClient:
    return get_object_or_404(selectors.clients_of(request.publisher.pk), pk=client_id)


def _page(request: PublisherRequest, client_id: int) -> str:
    return reverse("sso_portal:client_edit",
                   kwargs={"slug": request.publisher.slug, "client_id": client_id})


def _list(request: PublisherRequest) -> str:
    return reverse("sso_portal:clients", kwargs={"slug": request.publisher.slug})


def _portal_page(request: PublisherRequest) -> Any:
    return lambda template, context: publisher_render(
        request, f"licences/publisher/{template}", context)


def _initial(client: PublisherClient) -> dict[str, str]:
    application = client.application
    return {"name": application.name,
            "redirect_uris": "\n".join(application.redirect_uris.split()),
            "post_logout_uris": "\n".join(application.post_logout_redirect_uris.split()),
            "initiate_login_uri": client.initiate_login_uri,
            "default_target_uri": client.default_target_uri}


def _never_kept(response: HttpResponse) -> HttpResponse:
    # A secret is shown once: no copy of this page may be kept by a cache or the history.
    add_never_cache_headers(response)
    return response


@publisher_view(roles=ADMIN)
@require_GET
def clients(request: PublisherRequest) -> HttpResponse:
    return publisher_render(request, "sso/portal/clients.html", {
        "clients": list(selectors.clients_of(request.publisher.pk)),
        "now": timezone.now()})


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def client_create(request: PublisherRequest) -> HttpResponse:
    form = NewClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = form.client_settings()
        try:
            registered = services.register_client(
                request.publisher, wanted.name, wanted.redirect_uris,
                confidential=form.cleaned_data["client_type"] == CONFIDENTIAL,
                post_logout_redirect_uris=wanted.post_logout_uris,
                initiate_login_uri=wanted.initiate_login_uri,
                default_target_uri=wanted.default_target_uri,
                actor=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Client %(name)s has been registered.")
                             % {"name": registered.client.application.name})
            return _never_kept(_edit_page(request, registered.client,
                                          plain_secret=registered.client_secret))
    return publisher_render(request, "sso/portal/client_create.html", {"form": form},
                            status=400 if form.errors else 200)


def _edit_page(request: PublisherRequest, client: PublisherClient, *,
               form: ClientForm | None = None, plain_secret: str = "",
               status: int = 200) -> HttpResponse:
    return publisher_render(request, "sso/portal/client_edit.html", {
        "client": client, "form": form or ClientForm(initial=_initial(client)),
        "plain_secret": plain_secret, "overlap_running": client.overlap_running(timezone.now()),
        "overlap_days": services.secret_overlap().days}, status=status)


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def client_edit(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if request.method != "POST":
        return _edit_page(request, client)
    form = ClientForm(request.POST)
    if form.is_valid():
        try:
            services.update_client(client, form.client_settings(), actor=request.user,
                                   request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The client's settings have been saved."))
            return go_to(request, _page(request, client.pk))
    return _edit_page(request, client, form=form, status=400)


@publisher_view(roles=ADMIN)
@require_POST
def secret_rotate(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if client.overlap_running(timezone.now()) and not is_confirmed(request):
        # Only one previous secret is kept: the one still overlapping would stop at once.
        return ask_first(request, Confirmation(
            title=_("Make a new secret for %(name)s?") % {"name": client.application.name},
            consequences=[
                _("The previous secret, which still works until %(until)s, stops at once. "
                  "The secret you use now keeps working for %(days)d days.")
                % {"until": _when(client), "days": services.secret_overlap().days}],
            yes=_("Yes, make a new secret"), action=request.path,
            back=_page(request, client.pk), fields=[]), _portal_page(request))
    try:
        plain = services.rotate_secret(client, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return go_to(request, _page(request, client.pk))
    client.refresh_from_db()
    return _never_kept(_edit_page(request, client, plain_secret=plain))


def _when(client: PublisherClient) -> str:
    expires = client.previous_secret_expires_at
    if expires is None:
        return ""
    return str(formats.date_format(timezone.localtime(expires), "j F Y, H:i"))


@publisher_view(roles=ADMIN)
@require_POST
def secret_end_overlap(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if client.overlap_running(timezone.now()) and not is_confirmed(request):
        return ask_first(request, Confirmation(
            title=_("Revoke the previous secret of %(name)s?") % {"name": client.application.name},
            consequences=[
                _("Servers that still use the previous secret can no longer sign anyone in. "
                  "This cannot be undone; only the newest secret keeps working.")],
            yes=_("Yes, revoke the previous secret"), action=request.path,
            back=_page(request, client.pk), fields=[]), _portal_page(request))
    if services.end_overlap(client, actor=request.user, request=request):
        messages.success(request, _("The previous secret no longer works."))
    return go_to(request, _page(request, client.pk))


@publisher_view(roles=ADMIN)
@require_POST
def client_disable(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if client.disabled_at is None and not is_confirmed(request):
        return ask_first(request, Confirmation(
            title=_("Switch off %(name)s?") % {"name": client.application.name},
            consequences=[
                _("Nobody can sign in to %(name)s through Klaspoort any more until you switch "
                  "it on again; tokens already issued stop working at the next userinfo call.")
                % {"name": client.application.name}],
            yes=_("Yes, switch off"), action=request.path,
            back=_page(request, client.pk), fields=[]), _portal_page(request))
    services.set_disabled(client, True, actor=request.user, request=request)
    messages.success(request, _("Client %(name)s has been switched off.")
                     % {"name": client.application.name})
    return go_to(request, _page(request, client.pk))


@publisher_view(roles=ADMIN)
@require_POST
def client_enable(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    services.set_disabled(client, False, actor=request.user, request=request)
    messages.success(request, _("Client %(name)s has been switched on again.")
                     % {"name": client.application.name})
    return go_to(request, _page(request, client.pk))


@publisher_view(roles=ADMIN)
@require_POST
def client_delete(request: PublisherRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    if not is_confirmed(request):
        return ask_first(request, Confirmation(
            title=_("Delete %(name)s?") % {"name": client.application.name},
            consequences=[
                _("Nobody can sign in to %(name)s through Klaspoort any more, and its client "
                  "id %(client_id)s is never valid again. This cannot be undone: to sign in "
                  "again you register a new client.")
                % {"name": client.application.name,
                   "client_id": client.application.client_id}],
            yes=_("Yes, delete"), action=request.path,
            back=_page(request, client.pk), fields=[]), _portal_page(request))
    name = client.application.name
    services.delete_client(client, actor=request.user, request=request)
    messages.success(request, _("Client %(name)s has been deleted.") % {"name": name})
    return go_to(request, _list(request))
