"""The teacher area (/leerkracht/): *Mijn groepen* and each group's pupils' sign-in.

A signed-in teacher sees the groups and clusters they teach, and for a group the same sign-in
table the coordinator has in *Beheer* (show secrets, a pupil's new secret, new secrets for the
group, switch the method, *Printversie*), built by the same roster.group_panel and
signin.views.print_cards as the coordinator's. Only their own groups: any other group is 404,
also one of their own school. Writes go through roster.secret_services, audited as the coordinator's
are. The area sits in signin, above roster and licences, whose data it shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from klaspoort.licences import selectors as licence_selectors
from klaspoort.licences import services as licence_services
from klaspoort.licences.errors import NotFound
from klaspoort.licences.models import JoinNotice
from klaspoort.roster import group_panel, selectors
from klaspoort.roster.guards import TeacherRequest, teacher_view
from klaspoort.roster.models import Group
from klaspoort.signin.views import help_pupil, print_cards
from klaspoort.tenancy import ViewFunc, for_school


def own_group(*, main_only: bool = False) -> Callable[[ViewFunc], ViewFunc]:
    """Resolve the URL's group_id to one of the teacher's own groups, before anything else is
    looked at (so also before the HTTP method): 404 for every other group. With `main_only`,
    only a main group: secrets belong to a pupil's main group, a cluster has no sign-in."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapper(request: TeacherRequest, group_id: int) -> HttpResponse:
            try:
                taught = selectors.taught_group(request.teacher, group_id)
            except Group.DoesNotExist as exc:
                raise Http404 from exc
            if main_only and taught.kind != Group.Kind.GROUP:
                raise Http404
            return view(request, taught)

        return wrapper

    return decorate


@teacher_view
@require_GET
def home(request: TeacherRequest) -> HttpResponse:
    """*Mijn groepen*, with the children who joined one of them and whose lesson week or block
    the teacher still has to start (seed 002)."""
    groups = list(selectors.groups_taught(request.teacher))
    return render(request, "teacher/home.html", {
        "school": request.school, "teacher": request.teacher, "groups": groups,
        "join_notices": licence_selectors.open_join_notices(
            request.school, [group.pk for group in groups])})


@teacher_view
@require_POST
def dismiss_notice(request: TeacherRequest, notice_id: int) -> HttpResponse:
    """The teacher has started the lesson week for the new child: the notice goes away. Only a
    notice of one of the teacher's own groups (404 otherwise)."""
    groups = selectors.groups_taught(request.teacher).values_list("pk", flat=True)
    notice = get_object_or_404(for_school(JoinNotice, request.school), pk=notice_id)
    try:
        licence_services.dismiss_join_notice(school=request.school, notice=notice,
                                             actor=request.user, group_ids=list(groups))
    except NotFound:
        raise Http404 from None
    return redirect("teacher:home")


@teacher_view
@own_group()
@require_GET
def group(request: TeacherRequest, taught: Group) -> HttpResponse:
    _group, teachers, pupils = selectors.group_members(request.school, taught.pk)
    selected: dict[str, Any] = {
        "group": taught, "teachers": teachers, "pupils": pupils,
        **group_panel.signin_panel(
            request.school, taught, pupils,
            signin_action=reverse("teacher:group_signin", kwargs={"group_id": taught.pk}),
            print_url=reverse("teacher:print_cards", kwargs={"group_id": taught.pk}),
            help_action=reverse("teacher:pupil_help", kwargs={"group_id": taught.pk}))}
    return render(request, "teacher/group.html", {
        "school": request.school, "teacher": request.teacher, "selected": selected})


@teacher_view
@own_group(main_only=True)
@require_POST
def group_signin(request: TeacherRequest, taught: Group) -> HttpResponse:
    """The same four changes as the coordinator's form, for one of the teacher's groups."""
    group_panel.change_signin(request, taught)
    return redirect("teacher:group", group_id=taught.pk)


@teacher_view
@own_group(main_only=True)
@require_POST
def pupil_help(request: TeacherRequest, taught: Group) -> HttpResponse:
    """Unlock a pupil who must wait after wrong secrets, or give them a new sign-in card (the
    old card's QR code stops working): signin.services, audited."""
    help_pupil(request, taught)
    return redirect("teacher:group", group_id=taught.pk)


@teacher_view
@own_group(main_only=True)
@require_GET
def print_cards_view(request: TeacherRequest, taught: Group) -> HttpResponse:
    """The group's cards, as the coordinator prints them."""
    return print_cards(request, request.school, taught,
                       reverse("teacher:group", kwargs={"group_id": taught.pk}))
