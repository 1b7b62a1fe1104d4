from django.contrib import admin

from klaspoort.schools.models import School, SchoolMembership


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
