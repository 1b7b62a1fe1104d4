"""*Resultatenkoppelingen* in *Beheer* (R7, issue 15): the school's couplings that send test and
observation results to its pupil tracking systems, with their status, and *Koppeling
toevoegen*. Thin views: the rules are results.coupling_services, the reads
results.coupling_selectors. Removing and sending earlier results ask first (admin_area's one
confirm pattern); with htmx the question appears in place, without JavaScript on a page of
its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from klaspoort.admin_area import Confirmation, ask_first, go_to, is_confirmed, render_admin_page
from klaspoort.converters import parse_id
from klaspoort.results import coupling_selectors, coupling_services
from klaspoort.results.coupling_services import AlreadySent, CouplingGone, CouplingRefused
from klaspoort.results.forms import AddCouplingForm, KeyForm
from klaspoort.results.models import Delivery, ResultCoupling
from klaspoort.roster.models import LasSystem
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.tenancy import for_school


def _page_url(request: SchoolRequest) -> str:
    return reverse("results:couplings", kwargs={"brin6": request.school.brin6})


def _coupling(request: SchoolRequest, coupling_id: int) -> ResultCoupling:
    # Another school's coupling (or none) is 404 before anything else is looked at.
    return get_object_or_404(for_school(ResultCoupling, request.school).select_related("las"),
                             pk=coupling_id)


def _page(request: SchoolRequest, *, form: AddCouplingForm | None = None,
          refused: tuple[int, KeyForm] | None = None, status: int = 200) -> HttpResponse:
    rows = []
    for each in coupling_selectors.coupling_statuses(request.school):
        key_form = (refused[1] if refused and refused[0] == each.pk
                    else KeyForm(prefix=f"c{each.pk}", las_name=each.las_name))
        rows.append({"status": each, "key_form": key_form})
    offered = list(coupling_selectors.offered_las(request.school))
    form = form or AddCouplingForm()
    chosen = str(form.data.get("las", "")) if form.is_bound else ""
    summary_form: Any = refused[1] if refused else form
    if refused:
        summary_field_id = f"id_c{refused[0]}-key"
    else:
        summary_field_id = "id_las_0" if form.errors.get("las") and offered else ""
    return render_admin_page(request, "results/couplings.html", {
        "rows": rows,
        "form": form,
        "offered": [{"las": las, "id": f"id_las_{index}", "checked": str(las.pk) == chosen}
                    for index, las in enumerate(offered)],
        "summary_form": summary_form,
        "summary_field_id": summary_field_id,
    }, status=status)


@school_admin_view
@require_http_methods(["GET", "POST"])
def couplings(request: SchoolRequest) -> HttpResponse:
    """The school's results couplings with their status, and *Koppeling toevoegen*."""
    if request.method != "POST":
        return _page(request)
    form = AddCouplingForm(request.POST)
    if form.is_valid():
        las_id = parse_id(form.cleaned_data["las"])
        las = LasSystem.objects.filter(pk=las_id).first() if las_id is not None else None
        try:
            if las is None:
                raise CouplingRefused(_("Choose a pupil administration (LAS) from the list."),
                                      field="las")
            added = coupling_services.add_coupling(
                school=request.school, las=las, key=form.cleaned_data["key"],
                send_grade_boundaries=form.cleaned_data["send_grade_boundaries"],
                actor=request.user, request=request)
        except CouplingRefused as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, _(
                "The results coupling with %(las)s has been added. New test and observation "
                "results now go to %(las)s automatically.") % {"las": added.las.name})
            return redirect(_page_url(request))
    return _page(request, form=form.without_key(), status=400)


@school_admin_view
@require_POST
def coupling_key(request: SchoolRequest, coupling_id: int) -> HttpResponse:
    """*Sleutel wijzigen* of one coupling."""
    coupling = _coupling(request, coupling_id)
    form = KeyForm(request.POST, prefix=f"c{coupling.pk}", las_name=coupling.las.name)
    form.is_valid()  # one optional text field; the rules live in the service
    try:
        coupling_services.change_key(coupling=coupling, key=form.cleaned_data.get("key"),
                                     actor=request.user, request=request)
    except CouplingGone:
        messages.info(request, _("This results coupling has been removed."))
        return redirect(_page_url(request))
    except CouplingRefused as exc:
        form.add_error("key", exc.message)
        return _page(request, refused=(coupling.pk, form.without_key()), status=400)
    messages.success(request, _("The new authorisation key for %(las)s has been saved.")
                     % {"las": coupling.las.name})
    return redirect(_page_url(request))


@school_admin_view
@require_POST
def coupling_grade_boundaries(request: SchoolRequest, coupling_id: int) -> HttpResponse:
    """*Schoolcijfergrenzen meesturen* on ("1") or off (anything else)."""
    coupling = _coupling(request, coupling_id)
    send = request.POST.get("send") == "1"
    try:
        coupling_services.set_send_grade_boundaries(coupling=coupling, send=send,
                                                    actor=request.user, request=request)
    except CouplingGone:
        messages.info(request, _("This results coupling has been removed."))
        return redirect(_page_url(request))
    named = {"las": coupling.las.name}
    messages.success(request, (
        _("The school grade boundaries now go along with the results to %(las)s.") if send
        else _("The school grade boundaries no longer go along with the results to %(las)s."))
        % named)
    return redirect(_page_url(request))


def _ask(request: SchoolRequest, confirmation: Confirmation) -> HttpResponse:
    return ask_first(request, confirmation, lambda template, context: render_admin_page(
        request, f"schools/{template}", context))


@school_admin_view
@require_POST
def coupling_remove(request: SchoolRequest, coupling_id: int) -> HttpResponse:
    """*Verwijderen*: asks first, saying what stops and how many results will not be sent;
    only the confirmed POST removes."""
    coupling = _coupling(request, coupling_id)
    back = _page_url(request)
    if not is_confirmed(request):
        named = {"las": coupling.las.name}
        waiting = coupling.deliveries.filter(state=Delivery.State.WAITING).count()
        consequences = [
            _("Klaspoort stops sending results to %(las)s. What %(las)s received stays "
              "there.") % named,
            _("The authorisation key is erased. To couple %(las)s again, you enter the key "
              "again.") % named,
        ]
        if waiting:
            consequences.append(ngettext(
                "%(count)s result that waits to be sent will not be sent.",
                "%(count)s results that wait to be sent will not be sent.",
                waiting) % {"count": waiting})
        return _ask(request, Confirmation(
            title=_("Remove the results coupling with %(las)s?") % named,
            consequences=consequences, yes=_("Yes, remove the coupling"),
            action=request.path, back=back, fields=[]))
    try:
        coupling_services.remove_coupling(coupling=coupling, actor=request.user,
                                          request=request)
    except CouplingGone:
        messages.info(request, _("This results coupling has been removed."))
    else:
        messages.success(request, _("The results coupling with %(las)s has been removed. "
                                    "Klaspoort no longer sends results to it and keeps no key.")
                         % {"las": coupling.las.name})
    return go_to(request, back)


@school_admin_view
@require_POST
def coupling_backfill(request: SchoolRequest, coupling_id: int) -> HttpResponse:
    """*Eerdere resultaten versturen*: asks first, with the number; only once."""
    coupling = _coupling(request, coupling_id)
    back = _page_url(request)
    named = {"las": coupling.las.name}
    if coupling.backfilled_at is not None:
        messages.info(request, _("The earlier results have already been sent to %(las)s.")
                      % named)
        return go_to(request, back)
    if not is_confirmed(request):
        count = coupling_selectors.earlier_results(coupling).count()
        return _ask(request, Confirmation(
            title=ngettext("Send %(count)s earlier result to %(las)s?",
                           "Send %(count)s earlier results to %(las)s?",
                           count) % {"count": count, **named},
            consequences=[
                _("These are results Klaspoort received before you added the coupling on "
                  "%(day)s.") % {"day": _date(coupling)},
                _("You can do this only once. New results go to %(las)s automatically.")
                % named,
            ],
            yes=_("Yes, send them"), action=request.path, back=back, fields=[]))
    try:
        queued = coupling_services.send_earlier_results(coupling=coupling, actor=request.user,
                                                        request=request)
    except CouplingGone:
        messages.info(request, _("This results coupling has been removed."))
    except AlreadySent:
        messages.info(request, _("The earlier results have already been sent to %(las)s.")
                      % named)
    else:
        messages.success(request, ngettext(
            "%(count)s earlier result is being sent to %(las)s.",
            "%(count)s earlier results are being sent to %(las)s.", queued)
            % {"count": queued, **named})
    return go_to(request, back)


def _date(coupling: ResultCoupling) -> str:
    return str(formats.date_format(timezone.localtime(coupling.since), "j F Y"))
