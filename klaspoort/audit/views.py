"""The *Logboek*: the school's audit trail for its coordinators (issue 3)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from klaspoort.audit.labels import action_label, field_label
from klaspoort.audit.selectors import entries_for_school
from klaspoort.schools.views import beheer_render
from klaspoort.tenancy import SchoolRequest, school_admin_view

PAGE_SIZE = 50


def _readable(values: Any) -> str:
    """Before or after as short 'key: value' text; the raw JSON would mean little to a user."""
    if values is None or values == {}:
        return ""
    if isinstance(values, dict):
        return ", ".join(f"{field_label(key)}: {value}" for key, value in values.items())
    return str(values)


@school_admin_view
@require_GET
def log(request: SchoolRequest) -> HttpResponse:
    page = Paginator(entries_for_school(request.school), PAGE_SIZE).get_page(
        request.GET.get("pagina"))
    rows = [{"entry": entry, "what": action_label(entry.action),
             "before": _readable(entry.before), "after": _readable(entry.after)}
            for entry in page.object_list]
    return beheer_render(request, "audit/log.html", {"page": page, "rows": rows})
