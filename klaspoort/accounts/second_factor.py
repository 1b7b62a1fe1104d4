"""The staff second factor: an authenticator app (TOTP) with single-use recovery codes.

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
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
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


def start_enrolment(user: Any) -> TOTPDevice:
    """The user's unconfirmed app device, created once per enrolment so a reload of the page
    keeps showing the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it when typed in by hand (base32, in groups)."""
    raw = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code, drawn on the server (no external service)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2))


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with one correct code: the device becomes active, the session counts as
    verified, and a fresh set of recovery codes replaces any earlier one. Returns the codes
    (shown once) or None for a wrong code, leaving everything as it was."""
    if not device.verify_token(_clean(code)):
        return None
    with transaction.atomic():
        user = device.user
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save()
        StaticDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    otp_login(request, device)
    return codes


def verify_code(request: HttpRequest, code: str) -> bool:
    """Accept a current app code or an unused recovery code (which is then spent) and mark the
    session as verified."""
    cleaned = _clean(code)
    if not cleaned:
        return False
    device = match_token(request.user, cleaned)
    if device is None:
        return False
    otp_login(request, device)
    return True


def _clean(code: str) -> str:
    # People copy codes with spaces ("123 456"); recovery codes are stored in lower case.
    return "".join(str(code).split()).lower()[:32]


def end_all_sessions(user: Any) -> None:
    """Sign the user out on every device: the session hash includes session_generation, so
    raising it makes every existing session fail Django's check on its next request."""
    get_user_model().objects.filter(pk=user.pk).update(
        session_generation=F("session_generation") + 1)
