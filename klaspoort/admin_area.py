"""The page chrome of *Beheer*, the school's administration area: the tabs, the school
switcher, and the one pattern for asking before an irreversible action.

A project-level module (it imports no app): every app's *Beheer* pages render through
`render_admin_page`, and the tabs name the pages by URL name only. The guard that lets a request
into *Beheer* (schools.guards.school_admin_view) puts the school and the schools the user may
switch to on the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

# The *Beheer* tabs, in the order of the navigation: (URL name, label).
ADMIN_TABS = [
    ("schools:data", _("School details")),
    ("schools:checklist", _("School year checklist")),
    ("roster:imports", _("Import user data")),
    ("roster:groups", _("Groups")),
    ("roster:coordinators", _("ICT coordinators")),
    ("roster:teachers", _("Teachers")),
    ("roster:pupils", _("Pupils")),
    ("schools:publishers", _("Publishers")),
    ("licences:contracts", _("Licence management")),
    ("results:couplings", _("Result couplings")),
    ("schools:network_providers", _("Set network provider")),
    ("schools:networks", _("IP addresses")),
    ("shortcuts:index", _("Shortcuts")),
    ("schools:log", _("Log")),
]
# Pages reached from a tab (a group's detail page belongs to *Groepen*).
TAB_OF_PAGE = {
    "roster:group": "roster:groups",
    "roster:import": "roster:imports",
    "roster:coupling": "roster:imports",
    "roster:coupling_key": "roster:imports",
    "roster:coupling_off": "roster:imports",
    "roster:coordinator_remove": "roster:coordinators",
    "roster:coordinator_invite": "roster:coordinators",
    "roster:teacher_email": "roster:teachers",
    "results:coupling_key": "results:couplings",
    "results:coupling_grade_boundaries": "results:couplings",
    "results:coupling_remove": "results:couplings",
    "results:coupling_backfill": "results:couplings",
}
# Every *Licentiebeheer* page sits under its tab (the per-child list and a licence's pages).
TAB_OF_PAGE.update({f"licences:{name}": "licences:contracts" for name in (
    "child_contracts", "contract_groups", "contract_children", "cancel")})
# *Waarom kan … niet openen?* is reached from *Licentiebeheer*.
TAB_OF_PAGE["signin:why"] = "licences:contracts"


def render_admin_page(request: HttpRequest, template: str, context: dict[str, Any],
                  *, status: int = 200) -> HttpResponse:
    """Render a *Beheer* page with what the layout needs: the tabs and the school switcher."""
    view_name = request.resolver_match.view_name if request.resolver_match else ""
    current_tab = TAB_OF_PAGE.get(view_name, view_name)
    # Set by the Beheer guard (schools.guards.school_admin_view), which looked them up.
    schools = list(getattr(request, "administered_schools", []))
    school = request.school  # type: ignore[attr-defined]  # set by the same guard
    context = {
        "school": school,
        "tabs": [
            {"label": label, "url": reverse(name, kwargs={"brin6": school.brin6}),
             "current": name == current_tab}
            for name, label in ADMIN_TABS
        ],
        "current_tab": current_tab,
        "switch_schools": schools if len(schools) > 1 else [],
        **context,
    }
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------------
# Asking first: the one confirm pattern for irreversible actions (issue 11, item 2)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageSection:
    """A card an app above adds to a page of an app below (the answer to such a page's signal,
    e.g. schools.signals.school_data_sections): its template, with `section` in its context,
    the data it shows, its order, and whether it stands beside the page's first card."""

    template: str
    context: dict[str, Any]
    order: int = 0
    beside: bool = False


@dataclass(frozen=True)
class Confirmation:
    """What an irreversible action asks first (templates/_confirm.html): what follows, with the
    numbers from the selectors; a "Ja, …" button that posts `fields` again to `action` with
    confirmed=1; a "Nee, terug" link to `back`."""

    title: str
    consequences: list[str]
    yes: str
    action: str
    back: str
    fields: list[tuple[str, Any]]


def is_confirmed(request: HttpRequest) -> bool:
    """Only a POST with confirmed=1 acts; any other request to the action asks first."""
    return request.method == "POST" and request.POST.get("confirmed") == "1"


def ask_first(request: HttpRequest, confirmation: Confirmation,
              page: Callable[[str, dict[str, Any]], HttpResponse]) -> HttpResponse:
    """The confirmation: for htmx only the part, which appears in place (the form's
    hx-target); otherwise a whole page, rendered by `page` in the caller's layout (Beheer or
    the publisher portal), so it works without JavaScript. Nothing is changed here."""
    if getattr(request, "htmx", False):
        return render(request, "_confirm.html", {"confirm": confirmation})
    return page("confirm.html", {"confirm": confirmation})


def go_to(request: HttpRequest, url: str) -> HttpResponse:
    """After an action: to `url`, also when htmx sent the request (a whole new page, with its
    messages, rather than a page inside the part htmx would swap)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)
