"""Operators read imports and may process a waiting one at once (R2.4); they keep the LAS
catalogue and see the schools' automatic couplings (issue 14)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.roster import coupling_selectors, coupling_services, services
from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport


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


class LasSystemForm(forms.ModelForm):
    """The catalogue entry, checked by the catalogue's rule (coupling_services.check_las_system):
    a pull LAS has its endpoint, a push LAS none and no school key; https in production."""

    # An address typed without a scheme is taken as https, never as plain http.
    endpoint = forms.URLField(label=LasSystem._meta.get_field("endpoint").verbose_name,
                              max_length=300, required=False, assume_scheme="https")
    results_endpoint = forms.URLField(
        label=LasSystem._meta.get_field("results_endpoint").verbose_name, max_length=300,
        required=False, assume_scheme="https")

    class Meta:
        model = LasSystem
        fields = ("name", "slug", "method", "endpoint", "needs_key", "client_code",
                  "client_name", "timeout_seconds", "results_endpoint", "takes_practice_results",
                  "active")
        widgets = {"client_code": forms.TextInput(attrs={"autocomplete": "off"})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            coupling_services.check_las_system(
                method=cleaned.get("method") or "", endpoint=cleaned.get("endpoint") or "",
                needs_key=bool(cleaned.get("needs_key")),
                client_code=cleaned.get("client_code") or "",
                client_name=cleaned.get("client_name") or "",
                timeout_seconds=cleaned.get("timeout_seconds"),
                results_endpoint=cleaned.get("results_endpoint") or "")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, errors)
        return cleaned


@admin.register(LasSystem)
class LasSystemAdmin(admin.ModelAdmin):
    """Operators keep the LAS catalogue (issue 14): a school chooses one of these, never an
    address. An entry in use is switched off (inactive), not deleted."""

    form = LasSystemForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "method", "endpoint", "needs_key", "results_endpoint", "active",
                    "coupled_schools")
    list_filter = ("method", "active")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[LasSystem]:
        return super().get_queryset(request).annotate(
            on=Count("couplings", filter=Q(couplings__active=True)))

    @admin.display(description=gettext_lazy("schools switched on"), ordering="on")
    def coupled_schools(self, obj: Any) -> int:
        return int(getattr(obj, "on", 0))


@admin.register(RosterCoupling)
class RosterCouplingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Schools switch their coupling on and off themselves (audited); operators see how each
    stands, never the key (not even masked)."""

    list_display = ("school", "las", "active", "last_fetch_at", "last_result",
                    "failures_in_a_row")
    list_filter = ("active", "last_result", "las")
    search_fields = ("school__brin", "school__name", "las__name")
    list_select_related = ("school", "las")
    fields = ("school", "las", "active", "switched_at", "switched_by", "last_fetch_at",
              "last_result", "last_error_text", "failures_in_a_row", "last_import")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Last error"))
    def last_error_text(self, obj: RosterCoupling) -> str:
        return coupling_selectors.error_text(obj.last_error) or "\N{EN DASH}"
