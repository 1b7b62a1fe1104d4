"""The operator's admin (platform helpdesk); schools never see it.

Operators sign in through the one staff sign-in (password, throttling, code step): the admin's
own login form is replaced by a redirect to it, and the admin lets in only an operator whose
session has shown a code (issue 10, finding 1).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from klaspoort.accounts import second_factor
from klaspoort.accounts.models import User


def operator_may_enter(request: HttpRequest) -> bool:
    """RULE: the operator admin opens only for an active operator (is_staff) whose session has
    shown a code of their second factor; a password alone never opens it."""
    user = request.user
    return bool(user.is_active and getattr(user, "is_staff", False)
                and second_factor.is_verified(request))


def operator_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin's login URL: never a form of its own (a POST signs nobody in). A visitor goes
    to the staff sign-in with `next`; a signed-in session that still owes the code step goes to
    that step; a signed-in user who is no operator is refused."""
    target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        step = second_factor.pending_step(request)
        if step:
            return HttpResponseRedirect(f"{step}?{urlencode({REDIRECT_FIELD_NAME: target})}")
        if operator_may_enter(request):
            return HttpResponseRedirect(target)
        raise PermissionDenied
    login = reverse("accounts:login")
    return HttpResponseRedirect(f"{login}?{urlencode({REDIRECT_FIELD_NAME: target})}")


# The one admin site of the project (klaspoort/urls.py mounts admin.site.urls at /operator/);
# its URLs are built after every admin module, this one included, has been loaded.
admin.site.has_permission = operator_may_enter  # type: ignore[method-assign]
admin.site.login = operator_login  # type: ignore[assignment]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "kind", "is_active", "is_staff")
    list_filter = ("kind", "is_active", "is_staff")
    search_fields = ("email", "display_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "display_name", "kind")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "password1", "password2")}),)
