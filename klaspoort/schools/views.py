"""Choosing a school, switching between schools, and the school's *Gegevens* page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from klaspoort.roster import selectors
from klaspoort.tenancy import (
    SchoolRequest,
    administered_schools,
    school_admin_view,
    school_for_admin,
)

# The *Beheer* tabs, in the order of the navigation: (URL name, label).
BEHEER_TABS = [
    ("schools:data", _("School details")),
    ("roster:imports", _("Import user data")),
    ("roster:groups", _("Groups")),
    ("roster:coordinators", _("ICT coordinators")),
    ("roster:teachers", _("Teachers")),
    ("roster:pupils", _("Pupils")),
]
# Pages reached from a tab (a group's detail page belongs to *Groepen*).
TAB_OF_PAGE = {
    "roster:group": "roster:groups",
    "roster:import": "roster:imports",
}


def beheer_render(request: SchoolRequest, template: str, context: dict[str, Any],
                  *, status: int = 200) -> HttpResponse:
    """Render a *Beheer* page with what the layout needs: the tabs and the school switcher."""
    view_name = request.resolver_match.view_name if request.resolver_match else ""
    current_tab = TAB_OF_PAGE.get(view_name, view_name)
    schools = list(administered_schools(request.user))
    context = {
        "school": request.school,
        "tabs": [
            {"label": label, "url": reverse(name, kwargs={"brin6": request.school.brin6}),
             "current": name == current_tab}
            for name, label in BEHEER_TABS
        ],
        "current_tab": current_tab,
        "switch_schools": schools if len(schools) > 1 else [],
        **context,
    }
    return render(request, template, context, status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After sign-in: straight to the only school, or a choice when there are several (R1.4)."""
    schools = list(administered_schools(request.user))
    if len(schools) == 1:
        return redirect("schools:data", brin6=schools[0].brin6)
    if not schools:
        return render(request, "schools/none.html")
    return render(request, "schools/choose.html", {"schools": schools})


@login_required
def switch(request: HttpRequest) -> HttpResponse:
    """The school switcher in the header: the same tab at the chosen school (R1.4)."""
    brin6 = request.GET.get("school", "")
    school = school_for_admin(request.user, brin6)
    tab = request.GET.get("tab", "")
    if tab not in dict(BEHEER_TABS):
        tab = "schools:data"
    return redirect(tab, brin6=school.brin6)


@school_admin_view
def school_data(request: SchoolRequest) -> HttpResponse:
    return beheer_render(request, "schools/data.html",
                         {"summary": selectors.school_summary(request.school)})
