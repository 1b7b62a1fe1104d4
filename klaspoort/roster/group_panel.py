"""A group's panel, the same for the coordinator (*Groepen* in Beheer) and the group's own
teachers (*Mijn groepen*): the pupils' sign-in and its four changes. The views of both areas
call these; each passes the addresses of its own area."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from klaspoort.addresses import pupil_page_url
from klaspoort.converters import parse_id
from klaspoort.roster import secret_services, secrets, selectors
from klaspoort.roster.models import Group
from klaspoort.schools.models import School


def signin_panel(school: School, group: Group, pupils: list[Any], *, signin_action: str,
                 print_url: str, help_action: str) -> dict[str, Any]:
    """The sign-in part of a group's panel: only a (main) group's pupils have secrets shown;
    a cluster has none (secrets belong to a pupil's main group)."""
    if group.kind != Group.Kind.GROUP:
        return {}
    secrets.attach_revealed(pupils)
    return {"signin_method": secrets.method_of(group),
            "signin_url": pupil_page_url(school),
            "signin_action": signin_action, "print_url": print_url,
            "help_action": help_action}


def change_signin(request: HttpRequest, group: Group) -> None:
    """The sign-in form's one action on a group the caller has already checked (the
    coordinator's, or a teacher's own); audited by the secrets services, told in a message."""
    action = request.POST.get("action", "")
    if action == "pupil":
        pupil = selectors.group_pupil(group, parse_id(request.POST.get("pupil")))
        if pupil is None:
            messages.error(request, _("This pupil is not in this group."))
        else:
            secret_services.change_pupil_secret(actor=request.user, pupil=pupil, request=request)
            messages.success(request, _("%(name)s has a new secret.") % {
                "name": pupil.full_name})
    elif action == "choose":
        _choose_pincode(request, group)
    elif action == "group":
        secret_services.regenerate_group(actor=request.user, group=group, request=request)
        messages.success(request, _("Every pupil of this group has a new secret."))
    elif action == "method" and request.POST.get("method") in (secrets.PICTURES,
                                                                  secrets.PINCODE):
        secret_services.switch_method(actor=request.user, group=group,
                                      method=request.POST["method"], request=request)
        messages.success(request, _("The sign-in method is set; the pupils have new secrets."))
    else:
        messages.error(request, _("Choose what to change."))


def _choose_pincode(request: HttpRequest, group: Group) -> None:
    """A pincode typed for one pupil (secrets.choose_pincode); a refused one is told why."""
    pupil = selectors.group_pupil(group, parse_id(request.POST.get("pupil")))
    if pupil is None:
        messages.error(request, _("Choose a pupil of this group."))
        return
    try:
        secret_services.choose_pincode(actor=request.user, pupil=pupil,
                               code=request.POST.get("pincode", "")[:20], request=request)
    except secrets.TrivialPincode as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("%(name)s has the pincode you chose.") % {
            "name": pupil.full_name})
