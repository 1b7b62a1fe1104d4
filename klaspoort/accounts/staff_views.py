"""Activation of invited accounts and the *Beheer* forms that invite staff.

Views stay thin: the rules live in accounts.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from klaspoort.accounts import services
from klaspoort.accounts.forms import EmailForm
from klaspoort.accounts.models import User
from klaspoort.accounts.password_forms import NewPasswordForm
from klaspoort.accounts.tokens import activation_token
from klaspoort.roster import selectors as roster_selectors
from klaspoort.schools.guards import SchoolRequest, school_admin_view


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


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """*Uitnodiging*: the owner of an existing account, signed in as themselves, confirms that
    they become an ICT coordinator of the inviting school; nothing changes before the POST."""
    found = services.invitation_from_token(token)
    if found is None or services.invitation_withdrawn(token, *found):
        return render(request, "accounts/invitation_invalid.html", status=400)
    invited, school = found
    if invited.pk != request.user.pk:
        return render(request, "accounts/invitation_invalid.html", {"other_account": True},
                      status=403)
    if request.method == "POST":
        services.accept_invitation(invited, token, request=request)
        messages.success(request, _("You are now an ICT coordinator of %(school)s.")
                         % {"school": school.display_name})
        return redirect("schools:home")
    return render(request, "accounts/invitation.html", {"school": school})


@school_admin_view
@require_POST
def invite_coordinator(request: SchoolRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _form_again(request, "roster/coordinators.html", {
            "users": roster_selectors.coordinators_of(request.school),
            "teachers": roster_selectors.teachers_of(request.school, coordinators_only=True),
            "invite_form": form})
    email = form.cleaned_data["email"]
    services.invite_coordinator(request.school, email, actor=request.user, request=request)
    # The same words whether or not the address has an account (it learns nothing).
    messages.success(request, _("%(email)s has been invited.") % {"email": email})
    return redirect("roster:coordinators", brin6=request.school.brin6)


def _form_again(request: SchoolRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A refused form comes back on its own page, not through a redirect: what was typed stays
    in the field and an error summary at the top takes the focus (WCAG 3.3.1, 3.3.7)."""
    # Imported here: the schools app imports the accounts app.
    from klaspoort.beheer import beheer_render

    return beheer_render(request, template, context, status=400)


@school_admin_view
@require_POST
def resend_invitation(request: SchoolRequest, user_id: int) -> HttpResponse:
    user = services.resend_invitation(request.school, user_id, actor=request.user,
                                      request=request)
    messages.success(request, _("A new activation link has been sent to %(email)s.")
                     % {"email": user.email})
    return redirect("roster:coordinators", brin6=request.school.brin6)


@school_admin_view
@require_POST
def teacher_email(request: SchoolRequest, teacher_id: int) -> HttpResponse:
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            teacher = services.set_teacher_email(request.school, teacher_id,
                                                 form.cleaned_data["email"],
                                                 actor=request.user, request=request)
        except ValidationError as exc:
            form.add_error("email", exc.messages)
        else:
            messages.success(request, _("The activation link has been sent to %(email)s.")
                             % {"email": teacher.email})
            return redirect("roster:teachers", brin6=request.school.brin6)
    return _form_again(request, "roster/teachers.html", {
        "teachers": roster_selectors.teachers_of(request.school),
        "email_form": form, "email_teacher_id": teacher_id,
        "email_field_id": f"teacher-email-{teacher_id}"})


@school_admin_view
@require_http_methods(["GET", "POST"])
def remove_coordinator(request: SchoolRequest, user_id: int) -> HttpResponse:
    """GET asks first, saying what follows (a page, so it works without JavaScript); POST
    removes (services.remove_coordinator: never the last one)."""
    # Imported here: the schools app imports the accounts app.
    from klaspoort.beheer import beheer_render

    membership = services.coordinator_membership(request.school, user_id)
    person = membership.user
    if request.method == "POST":
        try:
            services.remove_coordinator(request.school, person.pk, actor=request.user,
                                        request=request)
        except services.LastCoordinator:
            messages.error(request, _("%(email)s is the last ICT coordinator of this school and "
                                      "cannot be removed. Invite somebody else first.")
                           % {"email": person.email})
            return redirect("roster:coordinators", brin6=request.school.brin6)
        messages.success(request, _("%(email)s is no longer an ICT coordinator of %(school)s.")
                         % {"email": person.email, "school": request.school.display_name})
        if person.pk == request.user.pk:
            # Removed themselves: this school's Beheer is closed to them now.
            return redirect("schools:home")
        return redirect("roster:coordinators", brin6=request.school.brin6)
    return beheer_render(request, "accounts/coordinator_remove.html", {
        "person": person, "is_self": person.pk == request.user.pk,
        "returns": services.returns_with_next_import(request.school, person),
    })
