"""The staff second factor: an authenticator app (TOTP) with single-use recovery codes.

The rules of when a code is asked (reads) live here; the writes (enrolment, verifying a
code, ending every session) are accounts.services.

django-otp keeps the devices and marks a session as verified; the rules of when a staff member
must show a code, or must first set up an app, live here so the sign-in views and the *Beheer*
entry (second_factor_done, used by every staff area's guard) ask the same question.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator-app"
RECOVERY_DEVICE_NAME = "Herstelcodes"


def has_second_factor(user: Any) -> bool:
    """Whether the user has a confirmed authenticator app (and so must show a code)."""
    return bool(user_has_device(user, confirmed=True))


def school_requires_second_factor(user: Any) -> bool:
    """Whether one of the user's schools requires a second factor of all its staff: the
    schools they administer and the school where they teach."""
    # Through the account's relations: the schools app sits above this one.
    return get_user_model().objects.filter(
        Q(school_memberships__school__require_second_factor=True)
        | Q(teacher__active=True, teacher__school__require_second_factor=True),
        pk=user.pk).exists()


def is_verified(request: HttpRequest) -> bool:
    """Whether this session has shown a code. Right after sign-in request.user is the freshly
    loaded user, without the flag OTPMiddleware adds: not verified."""
    check = getattr(request.user, "is_verified", None)
    return bool(check()) if callable(check) else False


def must_have_second_factor(user: Any) -> bool:
    """Whether the user may not go on without a second factor: an operator (is_staff, who reaches
    every school's data in the operator admin) always, other staff when one of their schools
    requires it."""
    return bool(getattr(user, "is_staff", False)) or school_requires_second_factor(user)


def pending_step(request: HttpRequest) -> str | None:
    """Where a signed-in staff member must go before anything else, or None when the session may
    enter: a user with an app must show a code in this session; an operator, or a user whose
    school requires a second factor, who has none must set one up first. Until then the session
    reaches only these steps and the public pages (accounts.middleware)."""
    user = request.user
    if not user.is_authenticated:
        return None
    if is_verified(request):
        return None
    if has_second_factor(user):
        return reverse("accounts:second_factor_code")
    if must_have_second_factor(user):
        return reverse("accounts:second_factor_setup")
    return None


def second_factor_done(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a staff view: sign-in required, and the second-factor step done (a code shown this
    session, or an app set up where one is required); otherwise to that step, and back here
    after it. Every guard of a staff area (Beheer, the teacher area, the publisher portal)
    starts with this."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        step = pending_step(request)
        if step:
            return redirect_to_login(request.get_full_path(), step, "next")
        return view(request, *args, **kwargs)

    return wrapper


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it when typed in by hand (base32, in groups)."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code, drawn on the server (no external service)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2))


def clean_code(code: str) -> str:
    # People copy codes with spaces ("123 456"); recovery codes are stored in lower case.
    return "".join(str(code).split()).lower()[:32]
