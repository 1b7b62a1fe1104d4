"""The teacher's *Resultaten* (/leerkracht/resultaten/, issue 15 item 5): per group the teacher
teaches, the results of its pupils per test, to download as CSV or print for the hand-over.
The teacher area's guard (roster.guards.teacher_view) and its rule for one group
(signin.teacher_views.own_group): only the teacher's own groups, 404 for any other."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from klaspoort.results import teacher_selectors
from klaspoort.roster import selectors as roster_selectors
from klaspoort.roster.guards import TeacherRequest, teacher_view
from klaspoort.roster.models import Group
from klaspoort.signin.teacher_views import own_group


@teacher_view
@require_GET
def index(request: TeacherRequest) -> HttpResponse:
    """The groups the teacher teaches, each to open its results."""
    return render(request, "results/teacher_index.html", {
        "school": request.school, "teacher": request.teacher,
        "groups": list(roster_selectors.groups_taught(request.teacher))})


@teacher_view
@own_group()
@require_GET
def group_results(request: TeacherRequest, taught: Group) -> HttpResponse:
    """The group's results per pupil and test, with *Downloaden (CSV)* and *Printen*."""
    return _render(request, taught, "results/teacher_group.html")


@teacher_view
@own_group()
@require_GET
def group_print(request: TeacherRequest, taught: Group) -> HttpResponse:
    """The same table on a page of its own without the site's navigation: the way to print
    without JavaScript."""
    return _render(request, taught, "results/teacher_print.html")


def _render(request: TeacherRequest, taught: Group, template: str) -> HttpResponse:
    pupils, results = teacher_selectors.group_results(taught)
    with_results = {result.pupil_id for result in results}
    return render(request, template, {
        "school": request.school, "teacher": request.teacher, "group": taught,
        "results": results, "pupil_count": len(pupils),
        "without_results": [pupil for pupil in pupils if pupil.pk not in with_results],
        "today": timezone.localdate()})


@teacher_view
@own_group()
@require_GET
def group_csv(request: TeacherRequest, taught: Group) -> HttpResponse:
    """*Downloaden (CSV)*: the table as a file that Dutch Excel opens as it is."""
    _pupils, results = teacher_selectors.group_results(taught)
    name = slugify(taught.name) or "groep"
    response = HttpResponse(teacher_selectors.results_csv(taught, results).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="resultaten-{name}-{timezone.localdate():%Y-%m-%d}.csv"')
    return response
