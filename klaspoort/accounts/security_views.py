"""Sign-in protection for staff: throttled sign-in, the second-factor steps, sign out everywhere,
and the school's rule that all staff use a second factor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from klaspoort import auth_methods
from klaspoort.accounts import second_factor, services, throttling
from klaspoort.accounts.forms import EmailLoginForm
from klaspoort.accounts.models import User
from klaspoort.network import client_ip


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                      "autofocus": True}),
        error_messages={"required": _("Fill in the code.")},
    )


def _wait_message(minutes: int) -> str:
    return ngettext(
        "Too many attempts, try again in %(minutes)d minute.",
        "Too many attempts, try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return reverse("schools:home")


def _with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}"


class SignInView(LoginView):
    """Django's sign-in (which rotates the session key) with throttling in front of it and the
    second-factor step after it."""

    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def _who(self) -> tuple[str, str]:
        email = str(self.request.POST.get("username", "")).strip().lower()[:254]
        return email, client_ip(self.request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email, address = self._who()
        self._user = User.objects.filter(email=email).first() if email else None
        # Refused before the password is even checked: a right guess must not be learnt.
        if throttling.reset_needed(email, self._user):
            return self._refuse(_("There have been too many failed attempts to sign in to "
                                  "this account. Choose a new password with \"Forgot your "
                                  "password?\" to sign in again."))
        self._attempt = throttling.begin_password_attempt(email, address)
        if self._attempt.refused:
            return self._refuse(_wait_message(self._attempt.wait_minutes))
        return super().post(request, *args, **kwargs)

    def _refuse(self, message: object) -> HttpResponse:
        context = self.get_context_data(form=self.authentication_form(self.request),
                                        throttle_message=message)
        return self.render_to_response(context, status=429)

    def form_invalid(self, form: Any) -> HttpResponse:
        throttling.password_failed(self._attempt, self._who()[0], self._user)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        throttling.password_succeeded(self._attempt)
        response = super().form_valid(form)
        auth_methods.record_method(self.request, auth_methods.PASSWORD)
        step = second_factor.pending_step(self.request)
        if step:
            return redirect(_with_next(step, self.get_success_url()))
        return response


@login_required
def code(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: a code from the app, or a recovery code."""
    target = _next_url(request)
    if not second_factor.has_second_factor(request.user) or second_factor.is_verified(request):
        return redirect(target)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        attempt = throttling.begin_code_attempt(int(request.user.pk or 0))
        if attempt.refused:
            form.add_error(None, _wait_message(attempt.wait_minutes))
            status = 429
        elif services.verify_code(request, form.cleaned_data["code"]):
            throttling.code_succeeded(attempt)
            auth_methods.record_method(request, auth_methods.ONE_TIME_CODE)
            return redirect(target)
        else:
            form.add_error("code", _("This code is not right. Use the current code from your "
                                     "app, or one of your recovery codes."))
            status = 400
    return render(request, "accounts/security/code.html",
                  {"form": form, "next": target}, status=status)


class ThrottledPasswordResetView(PasswordResetView):
    """*Wachtwoord vergeten*, at most RESET_LIMIT requests an hour per address and per network.
    The refusal reads the same whether or not the address has an account."""

    def form_valid(self, form: Any) -> HttpResponse:
        attempt = throttling.begin_reset_request(form.cleaned_data["email"],
                                                 client_ip(self.request))
        if attempt.refused:
            form.add_error(None, _wait_message(attempt.wait_minutes))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """*Tweestapsverificatie instellen*: scan the QR code, confirm with one code, and receive the
    recovery codes once."""
    target = _next_url(request)
    if second_factor.has_second_factor(request.user) and not second_factor.is_verified(request):
        # Whoever knows only the password must not be able to replace the owner's app.
        return redirect(_with_next(reverse("accounts:second_factor_code"),
                                   reverse("accounts:second_factor_setup")))
    device = services.start_enrolment(request.user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            auth_methods.record_method(request, auth_methods.ONE_TIME_CODE)
            return render(request, "accounts/security/recovery_codes.html",
                          {"codes": codes, "next": target})
        form.add_error("code", _("This code is not right. Check that the time on your phone "
                                 "is correct and use the newest code."))
        status = 400
    return render(request, "accounts/security/setup.html", {
        "form": form, "next": target, "qr_svg": second_factor.qr_svg(device),
        "secret": second_factor.secret_text(device),
        "required": second_factor.school_requires_second_factor(request.user),
        "operator": bool(getattr(request.user, "is_staff", False)),
    }, status=status)


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the user, on every device, this one included."""
    services.end_all_sessions(request.user)
    logout(request)
    messages.success(request, _("You have been signed out on all devices."))
    return redirect("accounts:login")
