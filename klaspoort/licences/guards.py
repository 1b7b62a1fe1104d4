"""The publisher portal's guard (/uitgever/<slug>/...): a publisher's staff reach their own
publisher, with the same rules as *Beheer*."""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from klaspoort.accounts.second_factor import second_factor_done
from klaspoort.licences.models import PublisherMembership
from klaspoort.tenancy import ViewFunc


def publisher_view(view: ViewFunc | None = None, *, roles: tuple[str, ...] | None = None
                   ) -> Any:
    """Wrap a publisher portal view: sign-in required, the second-factor step done, `slug`
    resolved to request.publisher (and request.publisher_membership) for a member of that
    publisher, 404 for anybody else — staff of publisher B must not learn what publisher A has.
    With `roles`, a member whose role is not listed is refused with 403 (they know the
    publisher already; they may not use this page)."""

    def decorate(inner: ViewFunc) -> ViewFunc:
        @second_factor_done
        @functools.wraps(inner)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user  # signed in: second_factor_done let it through
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
