"""Activation of invited accounts and the *Beheer* forms that invite staff.

Views stay thin: the rules live in accounts.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from klaspoort.accounts import services
from klaspoort.accounts.models import User
from klaspoort.accounts.password_forms import NewPasswordForm
from klaspoort.accounts.tokens import activation_token


def _user_from_uid(uidb64: str) -> User | None:
    try:
        return User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """*Wachtwoord instellen* from an invitation link."""
    user = _user_from_uid(uidb64)
    if user is None or not services.is_pending(user) or not activation_token.check_token(
            user, token):
        return render(request, "accounts/activate_invalid.html", status=400)
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.activate(user, form.cleaned_data["new_password1"],
                          invitation=str(request.GET.get("uitnodiging", "")), request=request)
        messages.success(request, _("Your password has been set. You can sign in now."))
        return redirect("accounts:login")
    return render(request, "accounts/activate.html", {"form": form, "user_email": user.email})
