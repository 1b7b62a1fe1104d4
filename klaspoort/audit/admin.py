"""Operators read every school's trail here; nothing can be added, changed or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "school", "action", "target", "ip_address")
    list_filter = ("action",)
    search_fields = ("actor_label", "target", "school__brin", "school__name")
    date_hierarchy = "created_at"
    list_select_related = ("school",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]
