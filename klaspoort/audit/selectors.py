"""Reading the audit trail."""

from __future__ import annotations

from django.db.models import Model, QuerySet

from klaspoort.audit.models import AuditEntry
from klaspoort.tenancy import for_school


def entries_for_school(school: Model) -> QuerySet[AuditEntry]:
    """This school's entries, newest first (the *Logboek*)."""
    return for_school(AuditEntry, school).select_related("actor").order_by("-created_at", "-pk")
