"""*Licentiebeheer* in *Beheer*: the coordinator's side of the licences (R5, seeds 000/002/003).

The pages only read through the licences selectors and write through the licences services;
those find every contract, group and child through the school, so an id of another school is a
404 and never a change. A page that htmx updates in place (the filtered table, the children of
the chosen group) answers htmx with only that part and every other request with the whole page,
so each also works without JavaScript at a real URL.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort.admin_area import Confirmation, ask_first, go_to, is_confirmed, render_admin_page
from klaspoort.licences import selectors, services
from klaspoort.licences.errors import NotFound
from klaspoort.licences.forms import ContractFilterForm, IdForm, LinkGroupsForm, parse_id
from klaspoort.licences.models import Contract
from klaspoort.roster import selectors as roster_selectors
from klaspoort.roster.models import Group, Pupil
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.tenancy import for_school


def today() -> datetime.date:
    """The day the pages judge contracts by; one place, so tests can set the date."""
    return timezone.localdate()


def _partial_wanted(request: SchoolRequest, target: str) -> bool:
    """An htmx request for the part of the page with this id (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return htmx.target == target


def _varies_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a part or the whole page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _message(error: ValidationError) -> str:
    return " ".join(str(text) for text in error.messages)


def _chosen_group(request: SchoolRequest) -> tuple[Group | None, str]:
    """The group chosen in step 1 of *Kind toevoegen* (?groep=): 404 for another school's."""
    raw = request.GET.get("groep", "")
    if not raw:
        return None, ""
    group_id = parse_id(raw)
    if group_id is None:
        return None, _("Choose a group from the list.")
    group = for_school(Group, request.school).filter(pk=group_id, active=True).first()
    if group is None:
        raise Http404
    return group, ""


# ---------------------------------------------------------------------------------------------
# *Licenties (per groep)* and *Licenties per kind*
# ---------------------------------------------------------------------------------------------
def _contract_list(request: SchoolRequest, contract_type: str) -> HttpResponse:
    school = request.school
    form = ContractFilterForm(request.GET,
                              publishers=selectors.publishers_with_contracts(school))
    rows = selectors.contracts_for_school(
        school, publisher_id=form.publisher_id(), product_type=form.product_type() or "",
        contract_type=contract_type, today=today())
    per_child = contract_type == Contract.Type.CHILD
    list_url = reverse("licences:child_contracts" if per_child else "licences:contracts",
                       kwargs={"brin6": school.brin6})
    context = {"form": form, "rows": rows, "per_child": per_child, "list_url": list_url,
               "filtered": form.is_filtered(),
               "other_count": for_school(Contract, school).exclude(
                   contract_type=contract_type).count()}
    if _partial_wanted(request, "contract-table"):
        return _varies_on_htmx(render(request, "licences/beheer/_contract_table.html",
                                      {"school": school, **context}))
    return _varies_on_htmx(render_admin_page(request, "licences/beheer/contracts.html", context))


@school_admin_view
@require_GET
def contracts(request: SchoolRequest) -> HttpResponse:
    return _contract_list(request, Contract.Type.GROUP)


@school_admin_view
@require_GET
def child_contracts(request: SchoolRequest) -> HttpResponse:
    return _contract_list(request, Contract.Type.CHILD)


# ---------------------------------------------------------------------------------------------
# One licence: *Groepen gekoppeld* and *Kinderen gekoppeld*
# ---------------------------------------------------------------------------------------------
def _contract_context(request: SchoolRequest, contract_id: int) -> dict[str, Any]:
    contract = get_object_or_404(selectors.school_contracts(request.school), pk=contract_id)
    row = next((r for r in selectors.contracts_for_school(request.school, today=today())
                if r.contract.pk == contract.pk), None)
    option = selectors.cancel_option(contract, today())
    return {
        "contract": contract,
        "row": row,
        "per_child": contract.contract_type == Contract.Type.CHILD,
        "seats_used": selectors.seats_used(contract),
        # The button, the texts and the cancellation itself all follow this one answer.
        "can_cancel": option.allowed,
        "cancel_reason": option.reason,
        "cancel_deadline": option.deadline,
        "year_end": option.year_end,
    }


@school_admin_view
@require_GET
def contract_groups(request: SchoolRequest, contract_id: int) -> HttpResponse:
    context = _contract_context(request, contract_id)
    contract = context["contract"]
    if context["per_child"]:
        # A per-child licence has no groups: its page is the children tab.
        return redirect("licences:contract_children", brin6=request.school.brin6,
                        contract_id=contract.pk)
    context.update({"tab": "groups", "links": selectors.group_links(contract),
                    "removed": selectors.removed_group_links(contract),
                    "to_review": {review.link.group_id: review.reason for review in
                                  selectors.hand_links_to_review(request.school,
                                                                 contract=contract)},
                    "linkable": selectors.linkable_groups(request.school, contract)})
    return render_admin_page(request, "licences/beheer/contract_groups.html", context)


@school_admin_view
@require_GET
def contract_children(request: SchoolRequest, contract_id: int) -> HttpResponse:
    context = _contract_context(request, contract_id)
    contract = context["contract"]
    group, error = _chosen_group(request)
    context.update({
        "tab": "children",
        "links": selectors.child_links(contract),
        "groups": list(roster_selectors.groups_of(request.school)),
        "chosen_group": group,
        "choice_error": error,
        "pupils": selectors.linkable_children(request.school, contract, group.pk) if group else [],
        "seats_left": selectors.seats_free(contract, context["seats_used"]),
    })
    if _partial_wanted(request, "child-picker"):
        return _varies_on_htmx(render(request, "licences/beheer/_child_picker.html",
                                      {"school": request.school, **context}))
    return _varies_on_htmx(render_admin_page(request, "licences/beheer/contract_children.html",
                                         context))


def _groups_url(request: SchoolRequest, contract_id: int) -> HttpResponse:
    return go_to(request, reverse("licences:contract_groups", kwargs={
        "brin6": request.school.brin6, "contract_id": contract_id}))


def _admin_page(request: SchoolRequest) -> Any:
    """The whole-page form of a confirmation, in the *Beheer* layout."""
    return lambda template, context: render_admin_page(request, f"schools/{template}", context)


@school_admin_view
@require_POST
def link_groups(request: SchoolRequest, contract_id: int) -> HttpResponse:
    """*Groep toevoegen*: one or several groups at once, all or none."""
    contract = get_object_or_404(selectors.school_contracts(request.school), pk=contract_id)
    form = LinkGroupsForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["groups"][0]))
        return _groups_url(request, contract.pk)
    wanted = list(form.cleaned_data["groups"])
    groups = for_school(Group, request.school).in_bulk(wanted)
    if len(groups) != len(set(wanted)):
        raise Http404  # a group of another school, or none at all
    try:
        links = services.link_groups(school=request.school, contract=contract,
                                     groups=[groups[group_id] for group_id in wanted],
                                     actor=request.user, request=request)
    except NotFound:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, _message(error) + " " + _("Nothing has been changed."))
        return _groups_url(request, contract.pk)
    names = [link.group.name for link in links]
    messages.success(request, ngettext(
        "%(groups)s is linked to this licence.", "%(groups)s are linked to this licence.",
        len(names)) % {"groups": ", ".join(names)})
    return _groups_url(request, contract.pk)


@school_admin_view
@require_POST
def unlink_group(request: SchoolRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(selectors.school_contracts(request.school), pk=contract_id)
    form = IdForm(request.POST, field="group", invalid=_("Choose a group from the list."))
    group_id = form.value()
    if group_id is None:
        messages.error(request, form.error_text())
        return _groups_url(request, contract.pk)
    group = for_school(Group, request.school).filter(pk=group_id).first()
    if group is None:
        raise Http404
    was_linked = any(link.group_id == group.pk for link in selectors.group_links(contract))
    if was_linked and not is_confirmed(request):
        losing = selectors.pupils_losing_group_link(request.school, contract, group)
        names = {"group": group.name, "count": losing, "title": contract.title}
        return ask_first(request, Confirmation(
            title=_("Remove %(group)s from %(title)s?") % names,
            consequences=[
                ngettext("%(count)d pupil of %(group)s then loses this licence.",
                         "%(count)d pupils of %(group)s then lose this licence.",
                         losing) % names if losing else
                _("No pupil of %(group)s loses this licence: they all have it in another "
                  "way.") % names,
                _("Klaspoort then no longer links %(group)s to this licence automatically; "
                  "you can add it again yourself.") % names],
            yes=_("Yes, remove %(group)s") % names,
            action=request.path,
            back=reverse("licences:contract_groups", kwargs={
                "brin6": request.school.brin6, "contract_id": contract.pk}),
            fields=[("group", group.pk)]), _admin_page(request))
    try:
        services.unlink_group(school=request.school, contract=contract, group=group,
                              actor=request.user, request=request)
    except NotFound:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, _message(error))
        return _groups_url(request, contract.pk)
    if was_linked:
        messages.success(request, _(
            "%(group)s is no longer linked to this licence. It will not be linked "
            "automatically again.") % {"group": group.name})
    else:
        messages.info(request, _("%(group)s was not linked to this licence.") % {
            "group": group.name})
    return _groups_url(request, contract.pk)


@school_admin_view
@require_POST
def link_child(request: SchoolRequest, contract_id: int) -> HttpResponse:
    """*Kind toevoegen*, the last step: the chosen child gets the licence."""
    contract = get_object_or_404(selectors.school_contracts(request.school), pk=contract_id)
    children_url = reverse("licences:contract_children",
                           kwargs={"brin6": request.school.brin6, "contract_id": contract.pk})
    form = IdForm(request.POST, field="pupil", invalid=_("Choose a child from the list."))
    pupil_id = form.value()
    group_id = parse_id(request.POST.get("groep"))
    back = f"{children_url}?groep={group_id}" if group_id else children_url
    if pupil_id is None:
        messages.error(request, form.error_text())
        return go_to(request, back)
    already = any(link.pupil_id == pupil_id for link in selectors.child_links(contract))
    if not already and not is_confirmed(request):
        confirmation = _child_confirmation(request, contract, pupil_id, group_id, back)
        if confirmation is not None:
            return ask_first(request, confirmation, _admin_page(request))
    try:
        link = services.link_child(school=request.school, contract=contract,
                                   pupil=get_object_or_404(for_school(Pupil, request.school),
                                                           pk=pupil_id),
                                   actor=request.user, request=request)
    except NotFound:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, _message(error))
        return go_to(request, back)
    name = link.pupil.full_name
    if already:
        messages.info(request, _("%(child)s already has this licence.") % {"child": name})
    else:
        messages.success(request, _("%(child)s is linked to this licence.") % {"child": name})
    return go_to(request, back)


def _child_confirmation(request: SchoolRequest, contract: Contract, pupil_id: int,
                        group_id: int | None, back: str) -> Confirmation | None:
    """*Kind toevoegen* on a per-child licence uses a paid seat that only the publisher can
    free, so it asks first. Not for a group licence's extra child (no seat), nor when the
    service will refuse anyway (no such child, no seat left): then its message says why."""
    if contract.contract_type != Contract.Type.CHILD:
        return None
    pupil = for_school(Pupil, request.school).filter(pk=pupil_id, active=True).first()
    used = selectors.seats_used(contract)
    free = selectors.seats_free(contract, used)
    if pupil is None or free == 0:
        return None
    left = (free or 1) - 1
    names = {"child": pupil.full_name, "title": contract.title, "seats": contract.seats,
             "left": left}
    if contract.seats is None:
        consequences = [_("Only the publisher can unlink this child licence again.")]
    else:
        consequences = [
            _("This uses 1 of the %(seats)d seats; only the publisher can free it "
              "again.") % names,
            ngettext("%(left)d seat is left after this.", "%(left)d seats are left after this.",
                     left) % names]
    return Confirmation(
        title=_("Give %(child)s the licence %(title)s?") % names,
        consequences=consequences,
        yes=_("Yes, link %(child)s") % names,
        action=request.path, back=back,
        fields=[("pupil", pupil.pk), ("groep", group_id or "")])


# ---------------------------------------------------------------------------------------------
# *Opzeggen*
# ---------------------------------------------------------------------------------------------
@school_admin_view
@require_http_methods(["GET", "POST"])
def cancel(request: SchoolRequest, contract_id: int) -> HttpResponse:
    """*Opzeggen* asks first (the confirm pattern: GET or an unconfirmed POST), then the
    POST with confirmed=1 cancels. When it cannot be cancelled the page says why, and a POST
    gets the service's refusal."""
    context = _contract_context(request, contract_id)
    contract = context["contract"]
    if request.method == "POST" and (is_confirmed(request) or not context["can_cancel"]):
        try:
            contract = services.cancel_contract(school=request.school, contract=contract,
                                                actor=request.user, today=today(),
                                                request=request)
        except NotFound:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, _message(error))
        else:
            messages.success(request, _(
                "The contract has been cancelled. It counts until %(until)s.") % {
                "until": contract.effective_end.strftime("%d-%m-%Y")})
        return _groups_url(request, contract.pk)
    if context["can_cancel"]:
        names = {"title": contract.title, "number": contract.number,
                 "publisher": contract.publisher.name,
                 "until": context["year_end"].strftime("%d-%m-%Y"),
                 "deadline": context["cancel_deadline"].strftime("%d-%m-%Y")}
        return ask_first(request, Confirmation(
            title=_("Cancel %(title)s") % names,
            consequences=[
                _("Contract %(number)s of %(publisher)s will then end on %(until)s, at the end "
                  "of this school year. From the next school year on, nobody at your school "
                  "can use it.") % names,
                _("Cancelling for the next school year is possible until %(deadline)s.")
                % names],
            yes=_("Yes, cancel this contract"),
            action=request.path,
            back=reverse("licences:contract_groups", kwargs={
                "brin6": request.school.brin6, "contract_id": contract.pk}),
            fields=[]), _admin_page(request))
    return render_admin_page(request, "licences/beheer/cancel.html", context)
