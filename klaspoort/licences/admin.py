from django.contrib import admin

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.licences.models import (
    ChildLicence,
    Contract,
    GroupLicence,
    JoinNotice,
    Product,
    PublisherMembership,
)


@admin.register(PublisherMembership)
class PublisherMembershipAdmin(admin.ModelAdmin):
    """How an operator gives a publisher its first staff account (admin or helpdesk)."""

    list_display = ("user", "publisher", "role", "created_at")
    list_filter = ("role", "publisher")
    autocomplete_fields = ("user",)
    search_fields = ("user__email", "publisher__name")


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: products and contracts change through the publisher portal, the API and
    `klaspoort import-contracts`, links through *Licentiebeheer*; all of them validate and
    audit, which an admin form would not."""


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "publisher", "product_type", "year_groups")
    list_filter = ("publisher", "product_type")
    search_fields = ("name", "code")


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "publisher", "school", "start", "end", "contract_type",
                    "seats", "cancelled_at")
    list_filter = ("publisher", "contract_type")
    search_fields = ("number", "title", "school__brin", "school__name")


@admin.register(GroupLicence, ChildLicence, JoinNotice)
class LinkAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "created_at")
