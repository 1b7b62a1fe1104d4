"""*Mijn profiel*: the signed-in user's details, the School ID of each school they administer,
and changing the own password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from klaspoort.accounts import services, throttling
from klaspoort.accounts.models import User
from klaspoort.accounts.password_forms import ChangePasswordForm
from klaspoort.network import client_ip
from klaspoort.schools.guards import administered_schools


def _wait_message(minutes: int) -> str:
    # The sign-in page's words (accounts.security_views), so the catalogue has them once.
    return ngettext("Too many attempts, try again in %(minutes)d minute.",
                    "Too many attempts, try again in %(minutes)d minutes.",
                    minutes) % {"minutes": minutes}


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Only the user's own details; the schools are the ones they administer, nothing else.
    A POST changes the own password (accounts.services.change_own_password)."""
    user = request.user
    assert isinstance(user, User)  # login_required
    # Only an account that signs in with a password can change one (pupils have none).
    can_change = user.has_usable_password()
    form = ChangePasswordForm(user, request.POST or None) if can_change else None
    status = 200
    if request.method == "POST":
        if form is None:
            return redirect("profile")
        # The current password is a sign-in secret: guesses here count against the same limits
        # as at sign-in (throttling), so an unlocked, unattended screen does not allow guessing.
        attempt = throttling.begin_password_attempt(user.email or "", client_ip(request))
        if attempt.refused:
            form.is_valid()
            form.add_error(None, _wait_message(attempt.wait_minutes))
            status = 429
        elif form.is_valid():
            throttling.password_succeeded(attempt)
            services.change_own_password(request, form.cleaned_data["new_password1"])
            messages.success(request, _("Your password has been changed. You have been signed "
                                        "out on your other devices."))
            return redirect("profile")
        else:
            status = 400
            if "old_password" in form.errors:
                throttling.password_failed(attempt, user.email or "", user)
            else:
                throttling.password_succeeded(attempt)
    schools = list(administered_schools(user))
    # Through the account's relation: the roster app sits above this one.
    teaches = User.objects.filter(pk=user.pk, teacher__active=True).exists()
    publishes = user.publisher_memberships.exists()
    return render(request, "schools/profile.html", {
        "schools": schools, "form": form, "teaches": teaches, "publishes": publishes},
        status=status)
