from django.contrib import admin
from django.http import HttpRequest

from klaspoort.schools.models import (
    NetworkProvider,
    NetworkProviderConsent,
    Publisher,
    PublisherConsent,
    School,
    SchoolMembership,
)


class MembershipInline(admin.TabularInline):
    model = SchoolMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("display_name", "brin", "dependancecode", "school_year", "public_id")
    search_fields = ("name", "brin")
    readonly_fields = ("public_id",)
    inlines = (MembershipInline,)


@admin.register(Publisher, NetworkProvider)
class CatalogueAdmin(admin.ModelAdmin):
    """Operators extend the catalogues; an entry is switched off (inactive), not deleted."""

    list_display = ("name", "slug", "website", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(PublisherConsent, NetworkProviderConsent)
class ConsentAdmin(admin.ModelAdmin):
    """Read only: consents change through the school's own pages, which audit and e-mail."""

    list_display = ("__str__", "given_at", "given_by", "withdrawn_at", "withdrawn_by")
    list_filter = ("withdrawn_at",)
    search_fields = ("school__name", "school__brin")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
