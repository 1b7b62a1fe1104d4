from django.contrib import admin

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.schools import models


class MembershipInline(admin.TabularInline):
    model = models.SchoolMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(models.School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("display_name", "brin", "dependancecode", "school_year", "public_id")
    search_fields = ("name", "brin")
    readonly_fields = ("public_id",)
    inlines = (MembershipInline,)


@admin.register(models.Publisher, models.NetworkProvider)
class CatalogueAdmin(admin.ModelAdmin):
    """Operators extend the catalogues; an entry is switched off (inactive), not deleted."""

    list_display = ("name", "slug", "website", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(models.PublisherConsent, models.NetworkProviderConsent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: consents change through the school's own pages, which audit and e-mail."""

    list_display = ("__str__", "given_at", "given_by", "withdrawn_at", "withdrawn_by")
    list_filter = ("withdrawn_at",)
    search_fields = ("school__name", "school__brin")
