"""Choosing a school, switching between schools, and the school's *Gegevens* page."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort.accounts.second_factor import second_factor_done
from klaspoort.admin_area import (
    ADMIN_TABS,
    Confirmation,
    PageSection,
    ask_first,
    go_to,
    is_confirmed,
    render_admin_page,
)
from klaspoort.audit.labels import action_label, actor_label, readable, technical
from klaspoort.audit.selectors import entries_for_school
from klaspoort.converters import parse_id
from klaspoort.network import MAX_INPUT_LENGTH, NetworkInputError, client_ip
from klaspoort.schools import selectors as school_selectors
from klaspoort.schools import services, signals
from klaspoort.schools.checklist import checks_for, summarise
from klaspoort.schools.forms import UNKNOWN_CHOICE, ConsentForm, NetworkForm
from klaspoort.schools.guards import (
    SchoolRequest,
    administered_schools,
    school_admin_view,
    school_for_admin,
)
from klaspoort.schools.models import School, SchoolNetwork
from klaspoort.tenancy import for_school


def today() -> datetime.date:
    """The day the pages take as today; one place, so tests can set the date."""
    return timezone.localdate()


@second_factor_done
def home(request: HttpRequest) -> HttpResponse:
    """After sign-in: straight to the only school, or a choice when there are several (R1.4);
    a teacher who administers no school goes to *Mijn groepen*, a publisher's staff member to
    the publisher portal."""
    schools = list(administered_schools(request.user))
    if len(schools) == 1:
        return redirect("schools:data", brin6=schools[0].brin6)
    if not schools:
        # A teacher of the roster (roster.guards.teacher_of decides at the door).
        user: Any = request.user
        if get_user_model().objects.filter(pk=user.pk, teacher__active=True).exists():
            return redirect("teacher:home")
        if request.user.publisher_memberships.exists():  # type: ignore[union-attr]
            return redirect("publisher:index")
        return render(request, "schools/none.html")
    day = today()
    return render(request, "schools/choose.html", {"schools": [
        (school, summarise(checks_for(school, day))) for school in schools]})


@second_factor_done
def switch(request: HttpRequest) -> HttpResponse:
    """The school switcher in the header: the same tab at the chosen school (R1.4)."""
    brin6 = request.GET.get("school", "")
    school = school_for_admin(request.user, brin6)
    tab = request.GET.get("tab", "")
    if tab not in dict(ADMIN_TABS):
        tab = "schools:data"
    return redirect(tab, brin6=school.brin6)


@school_admin_view
@require_GET
def school_data(request: SchoolRequest) -> HttpResponse:
    """*Gegevens*: the school's own facts and its second-factor setting; the apps above add
    their cards (the user data, home sign-in) through schools.signals.school_data_sections."""
    year = school_selectors.current_school_year(today())
    answers: list[Any] = [answer for _receiver, answer in
                          signals.school_data_sections.send(sender=School, request=request)]
    sections = sorted((cast(PageSection, answer) for answer in answers if answer is not None),
                      key=lambda section: section.order)
    return render_admin_page(request, "schools/data.html", {
        "sections": sections,
        # *Home* lands here: the checklist's red and amber items in one sentence.
        "summary": summarise(checks_for(request.school, today())),
        "school_year": year,
        # The latest roster file may still be of last year (until the new one arrives).
        "roster_school_year": request.school.school_year
        if request.school.school_year not in ("", year) else ""})


@school_admin_view
@require_GET
def checklist(request: SchoolRequest) -> HttpResponse:
    """*Schooljaar-checklist*: every app's live checks of the summer checklist (issue 16)."""
    day = today()
    items = checks_for(request.school, day)
    return render_admin_page(request, "schools/checklist.html", {
        "items": items, "summary": summarise(items),
        "school_year": school_selectors.current_school_year(day)})


# ---------------------------------------------------------------------------------------------
# *Uitgeverijen* and *Netwerkbeheerder instellen*: ticking who may receive the school's data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsentPage:
    title: str | Promise
    intro: tuple[str | Promise, ...]
    legend: str | Promise
    empty: str | Promise
    offered: Callable[[School], QuerySet[Any]]
    history: Callable[[School], QuerySet[Any]]
    save: Callable[..., services.ConsentChange]
    entry_field: str
    # Asks before a tick is taken away, saying what stops (None: saved at once).
    confirm_untick: Callable[[SchoolRequest, list[Any], list[int]], Confirmation] | None = None


def _confirm_publisher_untick(request: SchoolRequest, unticked: list[Any],
                              chosen: list[int]) -> Confirmation:
    """Unticking a publisher stops every pupil's and teacher's access to its methods at once:
    the apps that know what stops say so (schools.signals.publisher_untick_consequences)."""
    consequences: list[str] = []
    for publisher in unticked:
        for _receiver, sentences in signals.publisher_untick_consequences.send(
                sender=School, school=request.school, publisher=publisher, day=today()):
            consequences.extend(sentences or [])
    listed = {"publishers": ", ".join(p.name for p in unticked)}
    consequences.append(gettext("%(publishers)s then no longer receives your school's data. "
                                "You can tick it again later.") % listed)
    return Confirmation(
        title=gettext("Untick %(publishers)s?") % listed,
        consequences=consequences,
        yes=gettext("Yes, untick %(publishers)s") % listed,
        action=request.path, back=request.path,
        fields=[("chosen", pk) for pk in chosen])


PUBLISHER_PAGE = ConsentPage(
    title=_("Publishers"),
    intro=(
        _("Tick a publisher to give it permission to receive your school's data: groups, "
          "teachers and pupils."),
        _("A publisher you have not ticked receives nothing, and its teaching methods cannot "
          "be opened by your pupils and teachers. Unticking a publisher stops this at once."),
    ),
    legend=_("Publishers that may receive your school's data"),
    empty=_("No consent has been given or withdrawn yet."),
    offered=school_selectors.offered_publishers,
    history=school_selectors.publisher_consent_history,
    save=services.set_publisher_consents,
    entry_field="publisher",
    confirm_untick=_confirm_publisher_untick,
)
NETWORK_PROVIDER_PAGE = ConsentPage(
    title=_("Set network provider"),
    intro=(
        _("Only tick a network provider if your school uses its environment, for example its "
          "portal or the devices it manages for you."),
        _("Every change is recorded with who made it and when, and the ICT coordinators "
          "receive a receipt by e-mail."),
    ),
    legend=_("Network providers whose environment your school uses"),
    empty=_("No network provider has been ticked or unticked yet."),
    offered=school_selectors.offered_network_providers,
    history=school_selectors.network_provider_consent_history,
    save=services.set_network_provider_consents,
    entry_field="provider",
)


def _consent_page(request: SchoolRequest, page: ConsentPage) -> HttpResponse:
    offered = page.offered(request.school)
    if request.method == "POST":
        form = ConsentForm(request.POST, offered=offered, label=str(page.legend))
        error = None
        if form.is_valid():
            chosen = [e.pk for e in form.cleaned_data["chosen"]]
            unticked = [e for e in offered if e.pk in _chosen(page, request) - set(chosen)]
            if page.confirm_untick is not None and unticked and not is_confirmed(request):
                return ask_first(request, page.confirm_untick(request, unticked, chosen),
                                 lambda template, context: render_admin_page(
                                     request, f"schools/{template}", context))
            try:
                change = page.save(request.school, chosen, request.user, request)
            except services.ConsentError as exc:
                error = str(exc)
            else:
                if change.changed:
                    messages.success(request, _("Your choice has been saved. The ICT "
                                                "coordinators receive a receipt by e-mail."))
                else:
                    messages.info(request, _("Nothing has changed."))
                return go_to(request, request.path)
        else:
            error = str(UNKNOWN_CHOICE)
        if getattr(request, "htmx", False):
            # htmx swaps no 400 in: the page itself again, with the refusal as a message.
            messages.error(request, error)
            return go_to(request, request.path)
        # A refused POST shows the saved state again, not the refused ticks.
        form = ConsentForm(initial={"chosen": list(_chosen(page, request))}, offered=offered,
                           label=str(page.legend))
        return render_admin_page(request, "schools/consents.html",
                             {"page": page, "form": form, "error": error,
                              "history": page.history(request.school)}, status=400)
    form = ConsentForm(initial={"chosen": list(_chosen(page, request))}, offered=offered,
                       label=str(page.legend))
    return render_admin_page(request, "schools/consents.html",
                         {"page": page, "form": form, "history": page.history(request.school)})


def _chosen(page: ConsentPage, request: SchoolRequest) -> set[int]:
    return {getattr(c, f"{page.entry_field}_id")
            for c in page.history(request.school).filter(withdrawn_at__isnull=True)}


@school_admin_view
def publishers(request: SchoolRequest) -> HttpResponse:
    return _consent_page(request, PUBLISHER_PAGE)


@school_admin_view
def network_providers(request: SchoolRequest) -> HttpResponse:
    return _consent_page(request, NETWORK_PROVIDER_PAGE)


# ---------------------------------------------------------------------------------------------
# IP-adressen
# ---------------------------------------------------------------------------------------------
def _networks_page(request: SchoolRequest, form: NetworkForm, *, status: int = 200,
          needs_confirmation: bool = False) -> HttpResponse:
    return render_admin_page(request, "schools/networks.html", {
        "form": form,
        "networks": school_selectors.school_networks(request.school),
        "current_ip": client_ip(request),
        "needs_confirmation": needs_confirmation,
    }, status=status)


@school_admin_view
@require_http_methods(["GET", "POST"])
def networks(request: SchoolRequest) -> HttpResponse:
    if request.method != "POST":
        return _networks_page(request, NetworkForm())
    form = NetworkForm(request.POST)
    form.is_valid()  # every field is optional; the rules live in the service
    data: dict[str, Any] = form.cleaned_data
    try:
        added = services.add_network(
            request.school, data.get("network", ""), data.get("label", ""), request.user,
            confirm_wide=bool(data.get("confirm_wide")), request=request)
    except NetworkInputError as exc:
        form.add_error(exc.field, exc.message)
        # Never send an oversized input back to the browser.
        too_long = {name: value for name, value in request.POST.items()
                    if name in ("network", "label") and len(value) > MAX_INPUT_LENGTH}
        if too_long:
            cleared = request.POST.copy()
            for name in too_long:
                cleared[name] = ""
            form.data = cleared
        return _networks_page(request, form, status=400, needs_confirmation=exc.needs_confirmation)
    messages.success(request, _("%(network)s has been added.") % {"network": added.network})
    return redirect("schools:networks", brin6=request.school.brin6)


@school_admin_view
@require_POST
def remove_network(request: SchoolRequest) -> HttpResponse:
    network = get_object_or_404(for_school(SchoolNetwork, request.school),
                                pk=parse_id(request.POST.get("network")) or 0)
    try:
        removed = services.remove_network(school=request.school, network=network,
                                          actor=request.user, request=request)
    except SchoolNetwork.DoesNotExist:  # removed a moment ago by a colleague
        raise Http404 from None
    messages.success(request, _("%(network)s has been removed.") % {"network": removed.network})
    return redirect("schools:networks", brin6=request.school.brin6)


# ---------------------------------------------------------------------------------------------
# Accepting an invitation to coordinate a school; the school's second-factor requirement
# ---------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """*Uitnodiging*: the owner of an existing account, signed in as themselves, confirms that
    they become an ICT coordinator of the inviting school; nothing changes before the POST."""
    found = school_selectors.invitation_from_token(token)
    if found is None or school_selectors.invitation_withdrawn(token, *found):
        return render(request, "accounts/invitation_invalid.html", status=400)
    invited, school = found
    if invited.pk != request.user.pk:
        return render(request, "accounts/invitation_invalid.html", {"other_account": True},
                      status=403)
    if request.method == "POST":
        services.accept_invitation(invited, token, request=request)
        messages.success(request, _("You are now an ICT coordinator of %(school)s.")
                         % {"school": school.display_name})
        return redirect("schools:home")
    return render(request, "accounts/invitation.html", {"school": school})


@school_admin_view
@require_POST
def second_factor_policy(request: SchoolRequest) -> HttpResponse:
    """The *Gegevens* setting: require a second factor of all staff of the school."""
    required = request.POST.get("require_second_factor") == "on"
    services.set_second_factor_requirement(request.school, required, request=request)
    if required:
        messages.success(request, _("All staff of this school must now use two-step "
                                    "verification."))
    else:
        messages.success(request, _("Two-step verification is no longer required."))
    return redirect("schools:data", brin6=request.school.brin6)


@school_admin_view
@require_POST
def reminders(request: SchoolRequest) -> HttpResponse:
    """The *Gegevens* card *Herinneringen*: which reminders the coordinators receive by e-mail.
    An unticked box is absent from the form, so anything but "on" is off."""
    services.set_reminders(
        request.school,
        year_start=request.POST.get("remind_year_start") == "on",
        cancellation=request.POST.get("remind_cancellation") == "on",
        results_erasure=request.POST.get("remind_results_erasure") == "on", request=request)
    messages.success(request, _("Your reminder settings are saved."))
    return redirect("schools:data", brin6=request.school.brin6)


# ---------------------------------------------------------------------------------------------
# *Logboek*: the school's audit trail for its coordinators (issue 3; the trail is audit's)
# ---------------------------------------------------------------------------------------------
LOG_PAGE_SIZE = 50


@school_admin_view
@require_GET
def log(request: SchoolRequest) -> HttpResponse:
    page = Paginator(entries_for_school(request.school), LOG_PAGE_SIZE).get_page(
        request.GET.get("pagina"))
    # Every value in words (klaspoort.audit.labels); checksums fold away under details.
    rows = [{"entry": entry, "what": action_label(entry.action),
             "who": actor_label(entry.actor_label),
             "before": readable(entry.before), "after": readable(entry.after),
             "technical": technical(entry.before, entry.after)}
            for entry in page.object_list]
    return render_admin_page(request, "audit/log.html", {"page": page, "rows": rows})
