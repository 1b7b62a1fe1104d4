"""The teacher area's guard (/leerkracht/...): a teacher reaches their own groups and nothing
else."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse

from klaspoort.accounts.second_factor import second_factor_done
from klaspoort.roster.models import Teacher
from klaspoort.schools.models import School
from klaspoort.tenancy import ViewFunc

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User


def teacher_of(user: User | AnonymousUser) -> Teacher | None:
    """The active roster teacher this staff user is, with the school; None for anybody else
    (a coordinator who teaches nothing, a pupil, a teacher who left the roster)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "kind", "") != "staff":
        return None
    return Teacher.objects.select_related("school").filter(user=user.pk, active=True).first()


class TeacherRequest(HttpRequest):
    teacher: Teacher
    school: School


def teacher_view(view: ViewFunc) -> ViewFunc:
    """Wrap a teacher-area view: sign-in required, the second-factor step done (as for
    *Beheer*), the signed-in user resolved to their active roster teacher (request.teacher) and
    its school (request.school), or 404. Which groups the teacher may see is the view's
    question, answered through the teacher (roster.selectors.taught_group): 404 for others."""

    @second_factor_done
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        teacher = teacher_of(request.user)
        if teacher is None:
            raise Http404
        request.teacher = teacher  # type: ignore[attr-defined]
        request.school = teacher.school  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
