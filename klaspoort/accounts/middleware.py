"""A staff session that has passed only the password reaches nothing but the rest of sign-in.

RULE (issue 10, finding 2): until a staff member has shown a code in this session (or set up an
app, where they are an operator or their school requires one; second_factor.pending_step), the
session reaches only the code and enrolment steps, sign-out, static files and the public pages
(sign-in, password reset, activation, language choice). Everything else — *Lesmateriaal*, the tile
launch, /o/authorize, *Mijn profiel*, the operator admin, *Beheer* — answers with a redirect to
the step. One gate here, so a page added later cannot forget it. Pupils are not staff: they never
have a code step, and are never stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from klaspoort.accounts.models import User
from klaspoort.accounts.second_factor import pending_step

# View names (namespace:name) a half signed-in session may still reach.
ALLOWED_VIEWS = frozenset({
    "accounts:login",
    "accounts:second_factor_code",
    "accounts:second_factor_setup",
    "accounts:logout",
    "accounts:sign_out_everywhere",
    "accounts:activate",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "set_language",
})


def is_allowed_while_pending(path: str) -> bool:
    """Whether a session that still owes the code step may reach this path."""
    static_url = str(getattr(settings, "STATIC_URL", "") or "")
    if static_url.startswith("/") and path.startswith(static_url):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # a page that does not exist shows nothing: the 404 may answer
    return match.view_name in ALLOWED_VIEWS


class SecondFactorGateMiddleware:
    """Send a staff session that owes the code step (or enrolment) to that step from any page
    outside the allowed list. Must come after django_otp's OTPMiddleware, which marks a session
    that showed a code as verified."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and getattr(user, "kind", "") == User.Kind.STAFF
                and not is_allowed_while_pending(request.path_info)):
            step = pending_step(request)
            if step:
                return redirect_to_login(request.get_full_path(), step, "next")
        return self.get_response(request)
