"""The roster pages of *Beheer*. Read-only except the upload (R2.1); reads go through selectors.

Pages that htmx updates in place (upload result, group panel, pupil search) answer a request
from htmx with only the changed part and every other request with the whole page, so each one
also works without JavaScript at a real URL.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klaspoort.accounts.forms import EmailForm
from klaspoort.accounts.models import User
from klaspoort.admin_area import (
    Confirmation,
    ask_first,
    go_to,
    is_confirmed,
    render_admin_page,
)
from klaspoort.converters import parse_id
from klaspoort.middleware import body_checked_by_view
from klaspoort.roster import (
    coupling_selectors,
    coupling_services,
    group_panel,
    selectors,
    services,
    spreadsheet,
    teacher_accounts,
)
from klaspoort.roster.forms import (
    CouplingForm,
    CouplingKeyForm,
    PupilSearchForm,
    RosterUploadForm,
    max_upload_size,
)
from klaspoort.roster.models import Group, LasSystem, RosterImport, Teacher
from klaspoort.schools import selectors as school_selectors
from klaspoort.schools import services as school_services
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.tenancy import for_school

HISTORY_LENGTH = 50
PUPILS_PER_PAGE = 100
EDEXML_ACCEPT = ".xml,application/xml,text/xml"
SPREADSHEET_ACCEPT = ".csv,text/csv"


def _partial_wanted(request: SchoolRequest) -> bool:
    """An htmx request for part of a page (not htmx restoring a whole page from history)."""
    htmx = getattr(request, "htmx", None)
    if htmx is None:
        return False
    return bool(htmx) and not htmx.history_restore_request


def _varies_on_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a part or the whole page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# ---------------------------------------------------------------------------------------------
# Gebruikersgegevens invoeren
# ---------------------------------------------------------------------------------------------
def _imports_context(request: SchoolRequest, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "imports": selectors.imports_of(request.school)[:HISTORY_LENGTH],
        "upload_form": RosterUploadForm(accept=EDEXML_ACCEPT),
        "sheet_form": RosterUploadForm(accept=SPREADSHEET_ACCEPT),
        "can_process": request.user.is_staff,
        "result_for": "",
        "max_upload_size": max_upload_size(),
        "coupling": coupling_selectors.coupling_status(request.school),
    }
    context.update(extra)
    return context


# Uploads: the school is checked before the body is read. CSRF middleware (and the check for
# unstorable text) would read a multipart body first, so these views are exempt from both and
# do them inside the tenancy check instead: a stranger's 20 MB never reaches the upload handler.
@body_checked_by_view
@csrf_exempt
@school_admin_view
@csrf_protect
@require_http_methods(["GET", "POST"])
def imports(request: SchoolRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive(request, form_name="upload_form", result_for="edexml",
                        source=RosterImport.Source.UPLOAD, accept=EDEXML_ACCEPT)
    return render_admin_page(request, "roster/imports.html", _imports_context(request))


@body_checked_by_view
@csrf_exempt
@school_admin_view
@csrf_protect
@require_POST
def spreadsheet_upload(request: SchoolRequest) -> HttpResponse:
    return _receive(request, form_name="sheet_form", result_for="sheet",
                    source=RosterImport.Source.SPREADSHEET, accept=SPREADSHEET_ACCEPT)


def _receive(request: SchoolRequest, *, form_name: str, result_for: str, source: str,
             accept: str) -> HttpResponse:
    """Take the uploaded file; a task checks it in a moment, and a valid one waits for the
    nightly run (R2.2, R2.4)."""
    form = RosterUploadForm.from_request(request, accept=accept)
    record = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.accept_upload(
                upload.read(), source=source, filename=upload.name or "",
                # school_admin_view let only a signed-in coordinator through.
                uploaded_by=cast(User, request.user), school=request.school, request=request)
        except services.TooManyUploads:
            form.add_error(None, _(
                "You have imported %(count)s files in the last %(minutes)s minutes. Wait a few "
                "minutes and try again.") % {"count": services.UPLOADS_PER_WINDOW,
                                             "minutes": services.UPLOAD_WINDOW_SECONDS // 60})
        else:
            # Where tasks run in-process the check is already done; elsewhere it is under way.
            record.refresh_from_db()
    if _partial_wanted(request):
        return _varies_on_htmx(render(request, "roster/_upload_response.html",
                                      _upload_result_context(request, form, record)))
    if record is not None:
        # Post/redirect/get: reloading the result page must not upload the file again.
        return redirect("roster:import", brin6=request.school.brin6, import_id=record.pk)
    context = _imports_context(request, result_for=result_for, **{form_name: form})
    return render_admin_page(request, "roster/imports.html", context, status=400)


def _upload_result_context(request: SchoolRequest, form: RosterUploadForm | None,
                           record: RosterImport | None) -> dict[str, Any]:
    return {"school": request.school, "form": form, "record": record,
            "imports": selectors.imports_of(request.school)[:HISTORY_LENGTH],
            "can_process": request.user.is_staff,
            **(_import_extras(record) if record is not None else {})}


@school_admin_view
@require_GET
def upload_result(request: SchoolRequest, import_id: int) -> HttpResponse:
    """The outcome of an upload that was still being checked: htmx asks again until it is
    known; without JavaScript the import's own page says the same."""
    record = _import_or_404(request, import_id)
    if not _partial_wanted(request):
        return redirect("roster:import", brin6=request.school.brin6, import_id=record.pk)
    return _varies_on_htmx(render(request, "roster/_upload_response.html",
                                  _upload_result_context(request, None, record)))


@school_admin_view
@require_GET
def import_detail(request: SchoolRequest, import_id: int) -> HttpResponse:
    """An import, and for one that waits or is held what it will change today (the preview)."""
    record = _import_or_404(request, import_id)
    return render_admin_page(request, "roster/import_detail.html", {
        "record": record, "can_process": request.user.is_staff, **_import_extras(record)})


KIND_LABELS = {"groups": gettext_lazy("Groups"), "pupils": gettext_lazy("Pupils"),
               "teachers": gettext_lazy("Teachers")}


def _mass_text(kind: str, counts: dict[str, int]) -> str:
    values = {"n": counts["deactivated"], "total": counts["active"]}
    if kind == "pupils":
        return ngettext("%(n)s of the %(total)s pupil", "%(n)s of the %(total)s pupils",
                        values["total"]) % values
    if kind == "teachers":
        return ngettext("%(n)s of the %(total)s teacher", "%(n)s of the %(total)s teachers",
                        values["total"]) % values
    return ngettext("%(n)s of the %(total)s group", "%(n)s of the %(total)s groups",
                    values["total"]) % values


def _import_extras(record: RosterImport) -> dict[str, Any]:
    """What an import's page shows besides the record: the preview of a waiting or held
    import, one row per kind, and whether any teacher's address was taken."""
    preview = selectors.import_preview(record)
    rows = []
    if preview is not None:
        for kind, label in KIND_LABELS.items():
            mass = preview["mass_removals"].get(kind)
            rows.append({"kind": kind, "label": label, "counts": preview["counts"][kind],
                         "lists": preview["changes"][kind], "mass": mass,
                         "mass_text": _mass_text(kind, mass) if mass else ""})
    return {"preview": preview, "preview_rows": rows,
            "email_in_use": any(w.get("kind") == "email_in_use" for w in record.warnings)}


@school_admin_view
@require_POST
def confirm_import(request: SchoolRequest, import_id: int) -> HttpResponse:
    """*Toch verwerken*: the coordinator lets a held import deactivate what its preview shows."""
    record = _import_or_404(request, import_id)
    try:
        services.confirm_held_import(actor=request.user, record=record, request=request)
    except services.ImportNotHeld:
        messages.error(request, _("This file is not waiting for confirmation (any more)."))
    return redirect("roster:import", brin6=request.school.brin6, import_id=record.pk)


@school_admin_view
@require_POST
def cancel_import(request: SchoolRequest, import_id: int) -> HttpResponse:
    """*Annuleren*: the coordinator stops a waiting or held import; nothing changes."""
    record = _import_or_404(request, import_id)
    try:
        services.cancel_import(actor=request.user, record=record, request=request)
    except services.ImportNotCancellable:
        messages.error(request, _("This file can no longer be cancelled: it is not waiting to "
                                  "be processed."))
    return redirect("roster:import", brin6=request.school.brin6, import_id=record.pk)


@school_admin_view
@require_POST
def process_now(request: SchoolRequest, import_id: int) -> HttpResponse:
    """An operator may process a waiting import at once; a coordinator waits for the night."""
    if not request.user.is_staff:
        raise PermissionDenied
    record = _import_or_404(request, import_id)
    record = services.process_import(record.pk)
    if record.status == RosterImport.Status.PROCESSED:
        messages.success(request, _("The file has been processed."))
    elif record.status == RosterImport.Status.FAILED:
        messages.error(request, _("Processing failed; nothing has been changed."))
    else:
        messages.info(request, _("This file is not (or no longer) waiting to be processed."))
    return redirect("roster:import", brin6=request.school.brin6, import_id=record.pk)


def _import_or_404(request: SchoolRequest, import_id: int) -> RosterImport:
    try:
        return selectors.import_of(request.school, import_id)
    except RosterImport.DoesNotExist as exc:
        raise Http404 from exc


@school_admin_view
@require_GET
def spreadsheet_template(request: SchoolRequest) -> HttpResponse:
    response = HttpResponse(spreadsheet.csv_template(), content_type="text/csv; charset=utf-8")
    filename = f"klaspoort-sjabloon-{request.school.brin6}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------------------------------------
# Groepen, ICT-coördinatoren, Leerkrachten, Leerlingen
# ---------------------------------------------------------------------------------------------
@school_admin_view
@require_GET
def groups(request: SchoolRequest) -> HttpResponse:
    return _varies_on_htmx(render_admin_page(request, "roster/groups.html", {
        "groups": selectors.groups_of(request.school), "selected": None}))


@school_admin_view
@require_GET
def group_detail(request: SchoolRequest, group_id: int) -> HttpResponse:
    try:
        group, teachers, pupils = selectors.group_members(request.school, group_id)
    except Group.DoesNotExist as exc:
        raise Http404 from exc
    brin6 = request.school.brin6
    selected = {"group": group, "teachers": teachers, "pupils": pupils,
                **group_panel.signin_panel(
                    request.school, group, pupils,
                    signin_action=reverse("roster:group_signin",
                                          kwargs={"brin6": brin6, "group_id": group.pk}),
                    print_url=reverse("signin:print_cards",
                                      kwargs={"brin6": brin6, "group_id": group.pk}),
                    help_action=reverse("signin:coordinator_pupil_help",
                                        kwargs={"brin6": brin6, "group_id": group.pk}))}
    if _partial_wanted(request):
        return _varies_on_htmx(render(request, "roster/_group_panel.html",
                                      {"school": request.school, "selected": selected}))
    return _varies_on_htmx(render_admin_page(request, "roster/groups.html", {
        "groups": selectors.groups_of(request.school), "selected": selected}))


def _main_group_or_404(request: SchoolRequest, group_id: int) -> Group:
    try:
        return selectors.group_of(request.school, group_id)
    except Group.DoesNotExist as exc:
        raise Http404 from exc


@school_admin_view
@require_POST
def group_signin(request: SchoolRequest, group_id: int) -> HttpResponse:
    """Change one pupil's secret, regenerate the group's, or switch the group's method."""
    group = _main_group_or_404(request, group_id)
    group_panel.change_signin(request, group)
    return redirect("roster:group", brin6=request.school.brin6, group_id=group.pk)


@school_admin_view
@require_GET
def coordinators(request: SchoolRequest) -> HttpResponse:
    return render_admin_page(request, "roster/coordinators.html", {
        "users": selectors.coordinators_of(request.school),
        "teachers": selectors.teachers_of(request.school, coordinators_only=True),
    })


@school_admin_view
@require_GET
def teachers(request: SchoolRequest) -> HttpResponse:
    return render_admin_page(request, "roster/teachers.html",
                         {"teachers": selectors.teachers_of(request.school)})


# The keys are the sort values in the URL (?sort=naam); they stay Dutch in both languages.
SORT_COLUMNS = [("naam", gettext_lazy("Name")), ("jaargroep", gettext_lazy("Year group")),
                ("groep", gettext_lazy("Group"))]


@school_admin_view
@require_GET
def pupils(request: SchoolRequest) -> HttpResponse:
    form = PupilSearchForm(request.GET)
    search, sort = form.search_text(), form.sort_key()
    page = Paginator(selectors.pupils_of(request.school, search=search, sort=sort),
                     PUPILS_PER_PAGE).get_page(request.GET.get("pagina"))
    columns = []
    for key, label in SORT_COLUMNS:
        state = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        columns.append({"key": key, "label": label, "aria_sort": state,
                        "next_sort": f"-{key}" if state == "ascending" else key})
    context = {"school": request.school, "form": form, "page": page, "search": search,
               "sort": sort, "columns": columns}
    if _partial_wanted(request):
        return _varies_on_htmx(render(request, "roster/_pupil_response.html", context))
    return _varies_on_htmx(render_admin_page(request, "roster/pupils.html", context))


# ---------------------------------------------------------------------------------------------
# *ICT-coördinatoren* and *Leerkrachten*: inviting and removing coordinators, a teacher's address
# ---------------------------------------------------------------------------------------------
@school_admin_view
@require_POST
def coordinator_invite(request: SchoolRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _form_again(request, "roster/coordinators.html", {
            "users": selectors.coordinators_of(request.school),
            "teachers": selectors.teachers_of(request.school, coordinators_only=True),
            "invite_form": form})
    email = form.cleaned_data["email"]
    school_services.invite_coordinator(request.school, email, actor=request.user, request=request)
    # The same words whether or not the address has an account (it learns nothing).
    messages.success(request, _("%(email)s has been invited.") % {"email": email})
    return redirect("roster:coordinators", brin6=request.school.brin6)


def _form_again(request: SchoolRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A refused form comes back on its own page, not through a redirect: what was typed stays
    in the field and an error summary at the top takes the focus (WCAG 3.3.1, 3.3.7)."""
    return render_admin_page(request, template, context, status=400)


@school_admin_view
@require_POST
def coordinator_resend(request: SchoolRequest, user_id: int) -> HttpResponse:
    membership = get_object_or_404(
        school_selectors.coordinator_memberships(request.school), user_id=user_id)
    try:
        user = school_services.resend_invitation(school=request.school, membership=membership,
                                                 actor=request.user, request=request)
    except school_services.NotPending:
        raise Http404 from None
    messages.success(request, _("A new activation link has been sent to %(email)s.")
                     % {"email": user.email})
    return redirect("roster:coordinators", brin6=request.school.brin6)


@school_admin_view
@require_POST
def teacher_email(request: SchoolRequest, teacher_id: int) -> HttpResponse:
    teacher = get_object_or_404(for_school(Teacher, request.school), pk=teacher_id)
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            teacher = teacher_accounts.set_teacher_email(
                school=request.school, teacher=teacher, email=form.cleaned_data["email"],
                actor=request.user, request=request)
        except teacher_accounts.HasAddress:
            raise Http404 from None
        except ValidationError as exc:
            form.add_error("email", exc.messages)
        else:
            messages.success(request, _("The activation link has been sent to %(email)s.")
                             % {"email": teacher.email})
            return redirect("roster:teachers", brin6=request.school.brin6)
    return _form_again(request, "roster/teachers.html", {
        "teachers": selectors.teachers_of(request.school),
        "email_form": form, "email_teacher_id": teacher_id,
        "email_field_id": f"teacher-email-{teacher_id}"})


@school_admin_view
@require_http_methods(["GET", "POST"])
def coordinator_remove(request: SchoolRequest, user_id: int) -> HttpResponse:
    """GET asks first, saying what follows (a page, so it works without JavaScript); POST
    removes (services.remove_coordinator: never the last one)."""
    person = get_object_or_404(
        school_selectors.coordinator_memberships(request.school), user_id=user_id).user
    if request.method == "POST":
        try:
            school_services.remove_coordinator(school=request.school, user=person,
                                               actor=request.user, request=request)
        except school_services.NotACoordinator:
            raise Http404 from None
        except school_services.LastCoordinator:
            messages.error(request, _("%(email)s is the last ICT coordinator of this school and "
                                      "cannot be removed. Invite somebody else first.")
                           % {"email": person.email})
            return redirect("roster:coordinators", brin6=request.school.brin6)
        messages.success(request, _("%(email)s is no longer an ICT coordinator of %(school)s.")
                         % {"email": person.email, "school": request.school.display_name})
        if person.pk == request.user.pk:
            # Removed themselves: this school's Beheer is closed to them now.
            return redirect("schools:home")
        return redirect("roster:coordinators", brin6=request.school.brin6)
    return render_admin_page(request, "accounts/coordinator_remove.html", {
        "person": person, "is_self": person.pk == request.user.pk,
        "returns": teacher_accounts.returns_with_next_import(request.school, person),
    })


# ---------------------------------------------------------------------------------------------
# *Automatische koppeling* (R2.3): the LAS sends or Klaspoort fetches the roster every night
# ---------------------------------------------------------------------------------------------
def _las_choices(form: CouplingForm, offered: list[LasSystem]) -> list[dict[str, Any]]:
    """The radio buttons with what the page says about each LAS (whether it needs a key)."""
    return [{"radio": radio, "las": las, "needs_key": coupling_services.key_needed(las)}
            for radio, las in zip(form["las"], offered, strict=True)]


def _chosen_in(form: CouplingForm) -> LasSystem | None:
    value = form.data.get("las") if form.is_bound else form.initial.get("las")
    return form.offered.get(str(value or ""))


def _key_field_shown(form: CouplingForm, offered: list[LasSystem]) -> bool:
    """The key field of the switch-on form: for the chosen LAS only when it needs a key; with
    nothing chosen yet whenever any LAS might (without JavaScript nothing is asked again)."""
    chosen = _chosen_in(form)
    if chosen is not None:
        return coupling_services.key_needed(chosen)
    return any(coupling_services.key_needed(las) for las in offered)


def _coupling_page(request: SchoolRequest, *, form: CouplingForm | None = None,
                   key_form: CouplingKeyForm | None = None, status: int = 200) -> HttpResponse:
    offered = list(coupling_selectors.offered_las())
    current = coupling_selectors.coupling_status(request.school)
    if form is None:
        chosen = parse_id(request.GET.get("las"))
        if chosen is None and current is not None:
            chosen = current.las.pk
        form = CouplingForm(initial={"las": str(chosen or "")}, offered=offered)
    return render_admin_page(request, "roster/coupling.html", {
        "status": current,
        "form": form,
        "choices": _las_choices(form, offered),
        "show_key": _key_field_shown(form, offered),
        "key_names": [las.name for las in offered if coupling_services.key_needed(las)],
        "key_form": key_form or CouplingKeyForm(prefix="new"),
        "summary_form": key_form if key_form is not None else form,
        # The link of the error summary: the key of "Sleutel wijzigen", or the first radio
        # button when the LAS was refused (a radio group has no one id of its own).
        "summary_field_id": "id_new-key" if key_form is not None
        else "id_las_0" if form.errors.get("las") else "",
    }, status=status)


@school_admin_view
@require_http_methods(["GET", "POST"])
def coupling(request: SchoolRequest) -> HttpResponse:
    """The status of the school's coupling, and *Koppeling aanzetten*: choose the LAS and,
    where it needs one, enter its authorisation key. htmx asks for the key field again when
    another LAS is chosen; without JavaScript the field is there for whichever LAS needs it."""
    if request.method == "POST":
        offered = list(coupling_selectors.offered_las())
        form = CouplingForm(request.POST, offered=offered)
        las = form.chosen_las() if form.is_valid() else None
        if las is not None:
            try:
                coupling_services.switch_on(school=request.school, las=las,
                                            key=form.cleaned_data["key"], actor=request.user,
                                            request=request)
            except coupling_services.CouplingRefused as exc:
                form.add_error(exc.field or None, exc.message)
            else:
                if las.method == LasSystem.Method.PUSH:
                    messages.success(request, _(
                        "The automatic coupling with %(las)s is on. %(las)s can now send your "
                        "user data; Klaspoort processes it at night.") % {"las": las.name})
                else:
                    messages.success(request, _(
                        "The automatic coupling with %(las)s is on. Klaspoort fetches your user "
                        "data every night, the first time tonight.") % {"las": las.name})
                return redirect("roster:coupling", brin6=request.school.brin6)
        return _coupling_page(request, form=form.without_key(), status=400)
    if _partial_wanted(request) and "las" in request.GET:
        offered = list(coupling_selectors.offered_las())
        form = CouplingForm(initial={"las": str(parse_id(request.GET.get("las")) or "")},
                            offered=offered)
        return _varies_on_htmx(render(request, "roster/_coupling_key_field.html", {
            "form": form, "show_key": _key_field_shown(form, offered),
            "key_names": [las.name for las in offered
                          if coupling_services.key_needed(las)]}))
    return _varies_on_htmx(_coupling_page(request))


@school_admin_view
@require_POST
def coupling_key(request: SchoolRequest) -> HttpResponse:
    """*Sleutel wijzigen*: a new authorisation key for the coupling that is on."""
    form = CouplingKeyForm(request.POST, prefix="new")
    form.is_valid()  # one optional text field; the rules live in the service
    try:
        coupling_services.change_key(school=request.school, key=form.cleaned_data.get("key"),
                                     actor=request.user, request=request)
    except coupling_services.CouplingNotOn:
        messages.info(request, _("The automatic coupling is off, so it has no key to change."))
        return redirect("roster:coupling", brin6=request.school.brin6)
    except coupling_services.CouplingRefused as exc:
        form.add_error("key", exc.message)
        return _coupling_page(request, key_form=form.without_key(), status=400)
    messages.success(request, _("The new authorisation key has been saved. Klaspoort uses it "
                                "from tonight."))
    return redirect("roster:coupling", brin6=request.school.brin6)


@school_admin_view
@require_POST
def coupling_off(request: SchoolRequest) -> HttpResponse:
    """*Koppeling uitzetten*: asks first, saying what stops and that the key is erased; only
    the confirmed POST switches off."""
    back = reverse("roster:coupling", kwargs={"brin6": request.school.brin6})
    current = coupling_selectors.coupling_status(request.school)
    if current is None or not current.active:
        messages.info(request, _("The automatic coupling is already off."))
        return go_to(request, back)
    if not is_confirmed(request):
        named = {"las": current.las.name}
        consequences = [
            _("Klaspoort no longer accepts user data that %(las)s sends.") % named
            if current.pushes else
            _("Klaspoort stops fetching your user data from %(las)s: changes in your LAS no "
              "longer reach Klaspoort.") % named,
            _("After every change in your LAS you then import the user data yourself, under "
              "Manual import."),
        ]
        if current.masked_key:
            consequences.append(_("The authorisation key is erased. To switch the coupling on "
                                  "again, you enter the key again."))
        return ask_first(request, Confirmation(
            title=_("Switch off the coupling with %(las)s?") % named,
            consequences=consequences, yes=_("Yes, switch the coupling off"),
            action=request.path, back=back, fields=[]),
            lambda template, context: render_admin_page(request, f"schools/{template}", context))
    try:
        switched = coupling_services.switch_off(school=request.school, actor=request.user,
                                                request=request)
    except coupling_services.CouplingNotOn:
        messages.info(request, _("The automatic coupling is already off."))
    else:
        messages.success(request, _("The automatic coupling with %(las)s is off. Klaspoort no "
                                    "longer receives your user data from it and keeps no key.")
                         % {"las": switched.las.name})
    return go_to(request, back)
