"""The *Logboek*: the school's audit trail for its coordinators (issue 3)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from klaspoort.audit.labels import action_label, actor_label, readable, technical
from klaspoort.audit.selectors import entries_for_school
from klaspoort.beheer import beheer_render
from klaspoort.schools.guards import SchoolRequest, school_admin_view

PAGE_SIZE = 50


@school_admin_view
@require_GET
def log(request: SchoolRequest) -> HttpResponse:
    page = Paginator(entries_for_school(request.school), PAGE_SIZE).get_page(
        request.GET.get("pagina"))
    # Every value in words (klaspoort.audit.labels); checksums fold away under details.
    rows = [{"entry": entry, "what": action_label(entry.action),
             "who": actor_label(entry.actor_label),
             "before": readable(entry.before), "after": readable(entry.after),
             "technical": technical(entry.before, entry.after)}
            for entry in page.object_list]
    return beheer_render(request, "audit/log.html", {"page": page, "rows": rows})
