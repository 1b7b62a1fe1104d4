"""Staff accounts: activation and the own password (issue 3, Staff accounts).

Inviting coordinators is schools' (the membership is theirs); teachers' accounts from the
roster are roster's (roster/teacher_accounts.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.db import transaction
from django.db.models import F, Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort.accounts.models import User
from klaspoort.accounts.second_factor import (
    APP_DEVICE_NAME,
    RECOVERY_CODE_COUNT,
    RECOVERY_DEVICE_NAME,
    clean_code,
)
from klaspoort.accounts.signals import account_activated
from klaspoort.accounts.tokens import activation_token
from klaspoort.mail import send_mail_pair


def is_pending(user: User) -> bool:
    """An invited account is pending until its owner has set a password."""
    return not user.has_usable_password()


def activation_url(user: User, request: HttpRequest | None = None) -> str:
    path = reverse("accounts:activate", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": activation_token.make_token(user)})
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


def send_activation(user: User, school: Model | None, request: HttpRequest | None = None
                    ) -> None:
    """Mail the activation link to a pending account.

    The link is signed and bound to the user's current password hash and to the time it was
    made: it works for 7 days (settings.ACTIVATION_TIMEOUT) and dies once a password is set.
    A new unusable password is stored first, so re-sending kills the earlier links too.
    """
    if not is_pending(user) or not user.email:
        return
    user.set_unusable_password()
    user.save(update_fields=["password"])
    send_mail_pair("activation", user.email, {
        "user": user, "school": school, "url": activation_url(user, request),
        "days": settings.ACTIVATION_TIMEOUT // 86400})


def change_own_password(request: HttpRequest, password: str) -> None:
    """RULE: the signed-in user's new password (the form has checked the current one and the
    password rules) ends every other session of the account, on every device, and keeps this
    one: a password is changed because it may be known to somebody else. The owner gets an
    e-mail about it, with the way to reset it should it not have been them."""
    user = request.user
    assert isinstance(user, User)
    user.set_password(password)
    user.save(update_fields=["password"])
    # The session hash covers the password already; the generation makes it explicit.
    end_all_sessions(user)
    user.refresh_from_db(fields=["session_generation"])
    update_session_auth_hash(request, user)
    # Told by e-mail, so the owner hears of a change made on a screen left signed in.
    if user.email:
        url = request.build_absolute_uri(reverse("accounts:password_reset"))
        send_mail_pair("password_changed", user.email, {"user": user, "url": url})


def activate(user: User, password: str, *, invitation: str = "",
             request: HttpRequest | None = None) -> None:
    """Set the first password of an invited account (the form has checked the password
    rules). Changing the hash ends the link; ICT teachers become coordinators now, and so does
    the owner of a coordinator invitation that came with the link (account_activated)."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    # What follows belongs to the apps above: schools accepts the invitation, roster makes an
    # ICT teacher a coordinator (accounts.signals.account_activated).
    account_activated.send(sender=User, user=user, invitation=invitation, request=request)


# ---------------------------------------------------------------------------------------------
# The second factor: enrolling an app, verifying a code, signing out everywhere
# ---------------------------------------------------------------------------------------------
def start_enrolment(user: Any) -> TOTPDevice:
    """The user's unconfirmed app device, created once per enrolment so a reload of the page
    keeps showing the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with one correct code: the device becomes active, the session counts as
    verified, and a fresh set of recovery codes replaces any earlier one. Returns the codes
    (shown once) or None for a wrong code, leaving everything as it was."""
    if not device.verify_token(clean_code(code)):
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
    cleaned = clean_code(code)
    if not cleaned:
        return False
    device = match_token(request.user, cleaned)
    if device is None:
        return False
    otp_login(request, device)
    return True


def end_all_sessions(user: Any) -> None:
    """Sign the user out on every device: the session hash includes session_generation, so
    raising it makes every existing session fail Django's check on its next request."""
    get_user_model().objects.filter(pk=user.pk).update(
        session_generation=F("session_generation") + 1)
