"""The publisher portal (/uitgever/<slug>/): a publisher's staff manage its products,
contracts and API tokens, and its helpdesk undoes a child licence linked by mistake (R5).

Every view is wrapped in `publisher_view`, which answers 404 for anybody who is not staff of the
publisher in the URL; every query below starts from request.publisher. Pages that htmx updates
(filters, upload) are whole pages that htmx cuts the changed part from (hx-select), so each one
works without JavaScript too.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort.admin_area import Confirmation, ask_first, go_to, is_confirmed
from klaspoort.licences import contract_import, icons, publisher_services, selectors, services
from klaspoort.licences.errors import NotFound
from klaspoort.licences.guards import publisher_view
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    Product,
    PublisherMembership,
    counts_until_q,
    running_q,
)
from klaspoort.licences.publisher_forms import (
    FORM_FIELD_OF_ROW,
    ContractFilterForm,
    ContractForm,
    ContractUploadForm,
    HelpdeskLookupForm,
    ProductForm,
)
from klaspoort.schools.models import Publisher

ADMIN = (PublisherMembership.Role.ADMIN,)
HELPDESK = (PublisherMembership.Role.ADMIN, PublisherMembership.Role.HELPDESK)
CONTRACTS_PER_PAGE = 100
UPLOAD_SESSION_KEY = "publisher_contract_upload"

TABS = [
    ("publisher:products", gettext_lazy("Products"), HELPDESK),
    ("publisher:contracts", gettext_lazy("Contracts"), HELPDESK),
    # The results app's page (by URL name only: licences imports nothing of results).
    ("results:publisher_grade_boundaries", gettext_lazy("Grade boundaries"), HELPDESK),
    ("exchange:tokens", gettext_lazy("API tokens"), ADMIN),
    ("sso_portal:clients", gettext_lazy("Single sign-on (OIDC)"), ADMIN),
    ("exchange:webhook", gettext_lazy("Webhook"), ADMIN),
    ("publisher:helpdesk", gettext_lazy("Helpdesk"), HELPDESK),
]
TAB_OF_PAGE = {
    "publisher:product_create": "publisher:products",
    "publisher:product_edit": "publisher:products",
    "publisher:contract_create": "publisher:contracts",
    "publisher:contract_edit": "publisher:contracts",
    "publisher:contract_upload": "publisher:contracts",
    "publisher:contract_upload_confirm": "publisher:contracts",
    # The sso app's pages (by URL name only: licences imports nothing of sso).
    **{f"sso_portal:{name}": "sso_portal:clients" for name in (
        "client_create", "client_edit", "secret_rotate", "secret_end_overlap",
        "client_disable", "client_enable", "client_delete")},
    "exchange:oneroster_clients": "exchange:tokens",
    "exchange:webhook_new_secret": "exchange:webhook",
    "exchange:webhook_remove": "exchange:webhook",
    # The signin app's *Waarom kan … niet openen?* (by URL name only).
    "signin:publisher_why": "publisher:helpdesk",
}


class PublisherRequest(HttpRequest):
    publisher: Publisher
    publisher_membership: PublisherMembership


def publisher_render(request: PublisherRequest, template: str, context: dict[str, Any],
                     *, status: int = 200) -> HttpResponse:
    """Render a portal page with the publisher's tabs (only those the member's role may use)."""
    view_name = request.resolver_match.view_name if request.resolver_match else ""
    current = TAB_OF_PAGE.get(view_name, view_name)
    role = request.publisher_membership.role
    context = {
        "publisher": request.publisher,
        "is_admin": role == PublisherMembership.Role.ADMIN,
        "tabs": [{"label": label,
                  "url": reverse(name, kwargs={"slug": request.publisher.slug}),
                  "current": name == current}
                 for name, label, roles in TABS if role in roles],
        **context,
    }
    return render(request, template, context, status=status)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """/uitgever/: straight to the only publisher, or a choice when there are several."""
    user: Any = request.user
    memberships = list(PublisherMembership.objects.select_related("publisher")
                       .filter(user=user).order_by("publisher__name"))
    if len(memberships) == 1:
        return redirect("publisher:products", slug=memberships[0].publisher.slug)
    if not memberships:
        raise Http404
    return render(request, "licences/publisher/choose.html", {"memberships": memberships})


@publisher_view
@require_GET
def home(request: PublisherRequest) -> HttpResponse:
    return redirect("publisher:products", slug=request.publisher.slug)


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------
@publisher_view
@require_GET
def products(request: PublisherRequest) -> HttpResponse:
    rows = list(Product.objects.filter(publisher=request.publisher)
                .select_related("replaces", "icon").defer("icon__data")
                .annotate(contract_count=Count("contracts")).order_by("name", "code"))
    for row in rows:
        row.icon_address = icons.url_of(row)  # type: ignore[attr-defined]
    return publisher_render(request, "licences/publisher/products.html", {"products": rows})


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def product_create(request: PublisherRequest) -> HttpResponse:
    return _product_form(request, None)


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def product_edit(request: PublisherRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, publisher=request.publisher, pk=product_id)
    return _product_form(request, product)


def _product_form(request: PublisherRequest, product: Product | None) -> HttpResponse:
    form = ProductForm(request.POST or None, request.FILES or None, instance=product,
                       publisher=request.publisher)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "code"}
        # The model form has already copied the input onto its instance; the service compares
        # with the stored row to audit before and after.
        stored = Product.objects.get(pk=product.pk) if product is not None else None
        try:
            saved, _created = publisher_services.save_product_with_icon(
                request.publisher, form.cleaned_data["code"], data, actor=request.user,
                product=stored, icon=form.cleaned_data.get("icon"),
                remove_icon=bool(form.cleaned_data.get("remove_icon")), request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Product %(name)s has been saved.") % {"name": saved.name})
            return redirect("publisher:products", slug=request.publisher.slug)
    status = 400 if request.method == "POST" else 200
    current_icon = icons.url_of(product) if product is not None and product.pk else ""
    return publisher_render(request, "licences/publisher/product_form.html",
                            {"form": form, "product": product, "current_icon": current_icon},
                            status=status)


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------
def _filtered_contracts(publisher: Publisher, form: ContractFilterForm,
                        today: datetime.date) -> QuerySet[Contract]:
    rows = selectors.contracts_of_publisher(publisher).order_by("-start", "number")
    if not form.is_valid():
        return rows
    data = form.cleaned_data
    brin6 = (data.get("brin6") or "").strip().upper()
    if brin6:
        rows = rows.filter(brin6=brin6)
    if data.get("product"):
        rows = rows.filter(product=data["product"])
    if data.get("status") == "running":
        rows = rows.filter(running_q(today))
    elif data.get("status") == "future":
        rows = rows.filter(start__gt=today)
    elif data.get("status") == "ended":
        rows = rows.exclude(counts_until_q(today))
    return rows


@publisher_view
@require_GET
def contracts(request: PublisherRequest) -> HttpResponse:
    form = ContractFilterForm(request.GET or None, publisher=request.publisher)
    rows = _filtered_contracts(request.publisher, form, timezone.localdate())
    page = Paginator(rows, CONTRACTS_PER_PAGE).get_page(request.GET.get("pagina"))
    query = request.GET.copy()
    query.pop("pagina", None)
    return publisher_render(request, "licences/publisher/contracts.html", {
        "filter_form": form, "page": page, "query": query.urlencode(),
        "upload_form": ContractUploadForm()})


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def contract_create(request: PublisherRequest) -> HttpResponse:
    return _contract_form(request, None)


@publisher_view(roles=ADMIN)
@require_http_methods(["GET", "POST"])
def contract_edit(request: PublisherRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(Contract.objects.select_related("school"),
                                 publisher=request.publisher, pk=contract_id)
    return _contract_form(request, contract)


def _contract_form(request: PublisherRequest, contract: Contract | None) -> HttpResponse:
    form = ContractForm(request.POST or None, publisher=request.publisher, contract=contract)
    if request.method == "POST" and form.is_valid():
        parsed = contract_import.parse_dicts([form.as_row()])
        if contract is None and Contract.objects.filter(
                publisher=request.publisher, number=form.cleaned_data["contract_number"]
        ).exists():
            # Typed in as new: an existing number here is a typing mistake, not an update.
            form.add_error("contract_number", _("A contract with this number already exists."))
        else:
            result = publisher_services.apply_contract_rows(
                parsed, publisher=request.publisher, actor=request.user, source="portal",
                request=request)
            if result.applied:
                messages.success(request, _("Contract %(number)s has been saved.")
                                 % {"number": form.cleaned_data["contract_number"]})
                return redirect("publisher:contracts", slug=request.publisher.slug)
            for error in result.errors:
                form.add_error(FORM_FIELD_OF_ROW.get(error.field), error.message)
    status = 400 if request.method == "POST" else 200
    return publisher_render(request, "licences/publisher/contract_form.html",
                            {"form": form, "contract": contract}, status=status)


def _upload_result(request: PublisherRequest, data: bytes, *, confirm: bool) -> HttpResponse:
    parsed = contract_import.parse_csv(data, publisher_required=False)
    result = publisher_services.apply_contract_rows(
        parsed, publisher=request.publisher, actor=request.user, source="upload",
        confirm_partial=confirm, request=request)
    digest = hashlib.sha256(data).hexdigest()
    if result.applied:
        request.session.pop(UPLOAD_SESSION_KEY, None)
    elif not result.file_error:
        # Kept for the "apply the good rows" button, so the publisher need not choose the file
        # again; only the digest travels through the form.
        request.session[UPLOAD_SESSION_KEY] = {
            "publisher": request.publisher.pk, "digest": digest,
            "data": data.decode("utf-8-sig")}
    good = result.created + result.updated + result.unchanged
    return publisher_render(request, "licences/publisher/upload_result.html", {
        "result": result, "digest": digest, "good_rows": good,
        "upload_form": ContractUploadForm()}, status=_status(request, result.applied))


def _status(request: HttpRequest, ok: bool) -> int:
    # htmx swaps only successful answers in; without htmx a refused upload is a 400.
    return 200 if ok or getattr(request, "htmx", False) else 400


@publisher_view(roles=ADMIN)
@require_POST
def contract_upload(request: PublisherRequest) -> HttpResponse:
    form = ContractUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return publisher_render(request, "licences/publisher/upload_result.html",
                                {"upload_form": form, "result": None},
                                status=_status(request, False))
    return _upload_result(request, form.cleaned_data["file"], confirm=False)


@publisher_view(roles=ADMIN)
@require_POST
def contract_upload_confirm(request: PublisherRequest) -> HttpResponse:
    kept = request.session.get(UPLOAD_SESSION_KEY) or {}
    if (kept.get("publisher") != request.publisher.pk
            or kept.get("digest") != request.POST.get("digest")):
        messages.error(request, _("That upload is no longer available; please upload the file "
                                  "again."))
        return redirect("publisher:contracts", slug=request.publisher.slug)
    return _upload_result(request, str(kept["data"]).encode("utf-8"), confirm=True)


# ---------------------------------------------------------------------------------------------
# Helpdesk
# ---------------------------------------------------------------------------------------------
@publisher_view(roles=HELPDESK)
@require_GET
def helpdesk(request: PublisherRequest) -> HttpResponse:
    form = HelpdeskLookupForm(request.GET or None)
    customer = None
    licences: list[ChildLicence] = []
    if form.is_valid():
        # The same page whether or not the BRIN6 is on the platform (decision 0017): the name
        # only once the school consented, child licences only on this publisher's contracts.
        brin6 = form.cleaned_data["brin6"]
        customer = {"brin6": brin6,
                    "name": selectors.school_name_for_publisher(request.publisher, brin6)}
        licences = list(
            ChildLicence.objects.filter(contract__publisher=request.publisher,
                                        contract__brin6=brin6, removed_at__isnull=True)
            .select_related("contract", "pupil", "pupil__group", "created_by")
            .order_by("contract__number", "pupil__last_name", "pupil__first_name"))
    return publisher_render(request, "licences/publisher/helpdesk.html", {
        "form": form, "customer": customer, "licences": licences})


@publisher_view(roles=HELPDESK)
@require_POST
def helpdesk_unlink(request: PublisherRequest, licence_id: int) -> HttpResponse:
    licence = get_object_or_404(
        ChildLicence.objects.select_related("contract__school", "pupil", "pupil__group"),
        contract__publisher=request.publisher, pk=licence_id)
    back = reverse("publisher:helpdesk", kwargs={"slug": request.publisher.slug})
    back = f"{back}?brin6={licence.contract.brin6}"
    if licence.removed_at is None and not is_confirmed(request):
        return ask_first(request, _unlink_confirmation(request, licence, back),
                         lambda template, context: publisher_render(
                             request, f"licences/publisher/{template}", context))
    try:
        services.unlink_child_by_helpdesk(publisher=request.publisher, link=licence,
                                          actor=request.user, request=request)
    except NotFound:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The child licence has been unlinked."))
    return go_to(request, back)


def _unlink_confirmation(request: PublisherRequest, licence: ChildLicence,
                         back: str) -> Confirmation:
    """*Ontkoppelen* cannot be undone by the helpdesk's school either (linking again uses a
    seat again), so it asks first: who loses what, and how many seats are in use after."""
    contract = licence.contract
    used = selectors.seats_used(contract)
    # The helpdesk sees a child as the helpdesk page shows it: first name and initial.
    names = {"child": f"{licence.pupil.first_name} {licence.pupil.last_name[:1]}.",
             "number": contract.number, "title": contract.title, "used": used - 1,
             "seats": contract.seats or 0}
    consequences = [_("%(child)s can then no longer open %(title)s through contract "
                      "%(number)s. The school sees in its log that your helpdesk did this.")
                    % names]
    if contract.seats is not None:
        consequences.append(_("The seat becomes free: %(used)d of %(seats)d in use after "
                              "this.") % names)
    return Confirmation(
        title=_("Unlink %(child)s from contract %(number)s?") % names,
        consequences=consequences, yes=_("Yes, unlink %(child)s") % names,
        action=request.path, back=back, fields=[])
