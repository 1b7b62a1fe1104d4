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


# ---------------------------------------------------------------------------------------------
# Publisher portal (/uitgever/<slug>/...): the same rules for a publisher's staff.
# ---------------------------------------------------------------------------------------------
def publisher_view(view: ViewFunc | None = None, *, roles: tuple[str, ...] | None = None
                   ) -> Any:
    """Wrap a publisher portal view: sign-in required, the second-factor step done, `slug`
    resolved to request.publisher (and request.publisher_membership) for a member of that
    publisher, 404 for anybody else — staff of publisher B must not learn what publisher A has.
    With `roles`, a member whose role is not listed is refused with 403 (they know the
    publisher already; they may not use this page)."""

    def decorate(inner: ViewFunc) -> ViewFunc:
        @login_required
        @functools.wraps(inner)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            # Imported here: licences imports schools and roster, which import this module.
            from django.core.exceptions import PermissionDenied

            from klaspoort.accounts.second_factor import pending_step
            from klaspoort.licences.models import PublisherMembership

            step = pending_step(request)
            if step:
                return redirect_to_login(request.get_full_path(), step, "next")
            user: Any = request.user  # signed in: login_required let it through
            membership = (PublisherMembership.objects.select_related("publisher")
                          .filter(user=user, publisher__slug=slug).first())
            if membership is None:
                raise Http404
            if roles is not None and membership.role not in roles:
                raise PermissionDenied
            request.publisher = membership.publisher  # type: ignore[attr-defined]
            request.publisher_membership = membership  # type: ignore[attr-defined]
            return inner(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


# ---------------------------------------------------------------------------------------------
# Teacher area (/leerkracht/...): a teacher reaches their own groups and nothing else.
# ---------------------------------------------------------------------------------------------
def teacher_of(user: Any) -> Any:
    """The active roster teacher this staff user is, with the school; None for anybody else
    (a coordinator who teaches nothing, a pupil, a teacher who left the roster)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "kind", "") != "staff":
        return None
    # Imported here: roster imports this module for its selectors.
    from klaspoort.roster.models import Teacher

    return Teacher.objects.select_related("school").filter(user=user, active=True).first()


class TeacherRequest(HttpRequest):
    teacher: Any  # roster.models.Teacher
    school: School


def teacher_view(view: ViewFunc) -> ViewFunc:
    """Wrap a teacher-area view: sign-in required, the second-factor step done (as for
    *Beheer*), the signed-in user resolved to their active roster teacher (request.teacher) and
    its school (request.school), or 404. Which groups the teacher may see is the view's
    question, answered through the teacher (roster.selectors.taught_group): 404 for others."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from klaspoort.accounts.second_factor import pending_step

        step = pending_step(request)
        if step:
            return redirect_to_login(request.get_full_path(), step, "next")
        teacher = teacher_of(request.user)
        if teacher is None:
            raise Http404
        request.teacher = teacher  # type: ignore[attr-defined]
        request.school = teacher.school  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper
