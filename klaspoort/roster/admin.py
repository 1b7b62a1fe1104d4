"""Operators read imports and may process a waiting one at once (R2.4)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from klaspoort.roster import services
from klaspoort.roster.models import RosterImport


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ("id", "school", "source", "status", "received_at", "processed_at",
                    "file_size")
    list_filter = ("status", "source")
    search_fields = ("school__brin", "school__name", "filename")
    exclude = ("payload",)  # roster contents are not for browsing
    readonly_fields = ("school", "source", "status", "received_at", "processed_at",
                       "uploaded_by", "filename", "file_sha256", "file_size", "edexml_version",
                       "counts", "errors", "warnings", "removals_confirmed",
                       "removals_confirmed_by")
    actions = ("process_now",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=gettext_lazy("Process now (do not wait for the nightly run)"))
    def process_now(self, request: HttpRequest, queryset: QuerySet[RosterImport]) -> None:
        waiting = queryset.filter(status=RosterImport.Status.WAITING).order_by("received_at")
        done = [services.process_import(pk) for pk in waiting.values_list("pk", flat=True)]
        text = ngettext("%(count)d import processed.", "%(count)d imports processed.",
                        len(done)) % {"count": len(done)}
        self.message_user(request, text, messages.SUCCESS)
