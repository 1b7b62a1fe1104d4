"""The one way to reach school-scoped data, so no view can forget the school.

Views under *Beheer* are wrapped in `school_admin_view`: it resolves the school in the URL
against the signed-in user's memberships and answers 404 (not 403: a stranger must not even
learn that a school exists) for any school the user does not administer. Inside, every query
of school-scoped rows goes through `for_school`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from klaspoort.schools.models import School, SchoolMembership

M = TypeVar("M", bound=Model)


def administered_schools(user: Any) -> QuerySet[School]:
    """The schools this user may administer (ICT coordinator membership)."""
    if not getattr(user, "is_authenticated", False):
        return School.objects.none()
    return School.objects.filter(
        memberships__user=user, memberships__role=SchoolMembership.Role.COORDINATOR
    ).distinct()


def school_for_admin(user: Any, brin6: str) -> School:
    """The school with this BRIN6 if the user administers it; otherwise 404."""
    if len(brin6) != 6:
        raise Http404
    school = administered_schools(user).filter(brin=brin6[:4], dependancecode=brin6[4:]).first()
    if school is None:
        raise Http404
    return school


def for_school(model_or_queryset: type[M] | QuerySet[M], school: School) -> QuerySet[M]:
    """Rows of this school only. Every school-scoped query in a view goes through here."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    return queryset.filter(school=school)


class SchoolRequest(HttpRequest):
    school: School


ViewFunc = Callable[..., HttpResponse]


def school_admin_view(view: ViewFunc) -> ViewFunc:
    """Wrap a *Beheer* view: sign-in required, the second-factor step done (a code this session,
    or enrolment when the school requires it), `brin6` resolved to request.school or 404."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, brin6: str, *args: Any, **kwargs: Any) -> HttpResponse:
        # Imported here: the accounts app imports this module for its own Beheer views.
        from klaspoort.accounts.second_factor import pending_step

        step = pending_step(request)
        if step:
            return redirect_to_login(request.get_full_path(), step, "next")
        request.school = school_for_admin(request.user, brin6)  # type: ignore[attr-defined]
        request.session["current_school"] = request.school.brin6  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
