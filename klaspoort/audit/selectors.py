"""Reading the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from klaspoort.audit.models import AuditEntry
from klaspoort.schools.models import School
from klaspoort.tenancy import for_school


def entries_for_school(school: School) -> QuerySet[AuditEntry]:
    """This school's entries, newest first (the *Logboek*)."""
    return for_school(AuditEntry, school).select_related("actor").order_by("-created_at", "-pk")
