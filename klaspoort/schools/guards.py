"""*Beheer*'s guard: a school's ICT coordinators reach that school, nobody else.

Views under *Beheer* are wrapped in `school_admin_view`: it resolves the school in the URL
against the signed-in user's memberships and answers 404 (not 403: a stranger must not even
learn that a school exists) for any school the user does not administer. Inside, every query
of school-scoped rows goes through klaspoort.tenancy.for_school.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from klaspoort.accounts.second_factor import second_factor_done
from klaspoort.schools.models import School, SchoolMembership
from klaspoort.tenancy import ViewFunc

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from klaspoort.accounts.models import User


def administered_schools(user: User | AnonymousUser) -> QuerySet[School]:
    """The schools this user may administer (ICT coordinator membership)."""
    if not getattr(user, "is_authenticated", False):
        return School.objects.none()
    return School.objects.filter(
        memberships__user=user.pk, memberships__role=SchoolMembership.Role.COORDINATOR
    ).distinct()


def school_for_admin(user: User | AnonymousUser, brin6: str) -> School:
    """The school with this BRIN6 if the user administers it; otherwise 404."""
    if len(brin6) != 6:
        raise Http404
    school = administered_schools(user).filter(brin=brin6[:4], dependancecode=brin6[4:]).first()
    if school is None:
        raise Http404
    return school


class SchoolRequest(HttpRequest):
    school: School
    administered_schools: list[School]


def school_admin_view(view: ViewFunc) -> ViewFunc:
    """Wrap a *Beheer* view: sign-in required, the second-factor step done (a code this session,
    or enrolment when the school requires it), `brin6` resolved to request.school or 404."""

    @second_factor_done
    @functools.wraps(view)
    def wrapper(request: HttpRequest, brin6: str, *args: Any, **kwargs: Any) -> HttpResponse:
        schools = list(administered_schools(request.user))
        school = next((s for s in schools if s.brin6 == brin6), None)
        if school is None:
            raise Http404
        request.school = school  # type: ignore[attr-defined]
        request.administered_schools = schools  # type: ignore[attr-defined]
        request.session["current_school"] = school.brin6
        return view(request, *args, **kwargs)

    return wrapper
