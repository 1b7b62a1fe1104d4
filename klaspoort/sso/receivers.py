"""Signal receivers of single sign-on."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from klaspoort import auth_methods


@receiver(user_logged_in, dispatch_uid="klaspoort.sso.auth_time_at_login")
def note_auth_time(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Every login() is a sign-in step, whichever view does it, so `max_age` at /o/authorize
    always has an auth_time to compare with (else it would send the user to sign in forever)."""
    if request is not None and hasattr(request, "session"):
        auth_methods.record_auth_time(request)
