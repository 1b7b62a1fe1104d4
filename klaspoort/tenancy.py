"""The one way to reach school-scoped data, so no view can forget the school.

Every query of school-scoped rows goes through `for_school`. Who may reach which school is
decided by the guard of each area, next to the membership it checks: *Beheer* for a school's
coordinators (schools.guards.school_admin_view), the teacher area for a teacher's own groups
(roster.guards.teacher_view), the publisher portal for a publisher's staff
(licences.guards.publisher_view). A project-level module: it imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpResponse

M = TypeVar("M", bound=Model)

ViewFunc = Callable[..., HttpResponse]


def for_school(model_or_queryset: type[M] | QuerySet[M], school: Any) -> QuerySet[M]:
    """Rows of this school only. Every school-scoped query in a view goes through here."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    return queryset.filter(school=school)
