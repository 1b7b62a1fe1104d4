"""*Mijn profiel*: the signed-in user's details, the School ID of each school they administer,
and changing the own password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from klaspoort.accounts import services
from klaspoort.accounts.models import User
from klaspoort.accounts.password_forms import ChangePasswordForm
from klaspoort.roster.models import Teacher
from klaspoort.tenancy import administered_schools


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
    if request.method == "POST":
        if form is not None and form.is_valid():
            services.change_own_password(request, form.cleaned_data["new_password1"])
            messages.success(request, _("Your password has been changed. You have been signed "
                                        "out on your other devices."))
            return redirect("profile")
        if form is None:
            return redirect("profile")
    schools = list(administered_schools(user))
    teaches = Teacher.objects.filter(user=user, active=True).exists()
    return render(request, "schools/profile.html", {
        "schools": schools, "form": form, "teaches": teaches},
        status=400 if request.method == "POST" else 200)
