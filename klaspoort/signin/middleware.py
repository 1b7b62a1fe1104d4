"""Ends a pupil's session after at most a school day (signin.session.pupil_session_over)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from klaspoort.signin.session import pupil_session_over


class PupilSessionLimitMiddleware:
    """After AuthenticationMiddleware: a pupil whose session is over is signed out before the
    view runs, so the request goes on as anonymous (and is sent to the pupil page to sign in
    again like any anonymous one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and pupil_session_over(request, user):
            logout(request)
        return self.get_response(request)
