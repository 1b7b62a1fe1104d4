from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.exchange import services
from klaspoort.exchange.models import (
    LasApiToken,
    NetworkProviderApiToken,
    PublisherApiToken,
    Webhook,
)


@admin.register(PublisherApiToken)
class PublisherApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made and revoked by the publisher in its portal (shown once, audited); the
    operator only sees which exist and when they were last used."""

    list_display = ("publisher", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("publisher",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NetworkProviderApiToken)
class NetworkProviderApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Operators make network providers' tokens with `klaspoort network-token` (printed once,
    audited); here they see which exist, when each was last used, and revoke one."""

    list_display = ("provider", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("provider",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.change_networkproviderapitoken"))

    @admin.action(description=gettext_lazy("Revoke the selected tokens"),
                  permissions=["revoke"])
    def revoke(self, request: HttpRequest,
               queryset: QuerySet[NetworkProviderApiToken]) -> None:
        revoked = sum(services.revoke_network_token(row, actor=request.user, request=request)
                      for row in queryset.order_by("pk"))
        self.message_user(request, ngettext("%(count)d token revoked.",
                                            "%(count)d tokens revoked.", revoked)
                          % {"count": revoked}, messages.SUCCESS)


@admin.register(LasApiToken)
class LasApiTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Operators make a LAS's push tokens with `klaspoort las-token` (printed once, audited);
    here they see which exist, when each was last used, and revoke one."""

    list_display = ("las", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("las",)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.change_lasapitoken"))

    @admin.action(description=gettext_lazy("Revoke the selected tokens"),
                  permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[LasApiToken]) -> None:
        revoked = sum(services.revoke_las_token(row, actor=request.user, request=request)
                      for row in queryset.order_by("pk"))
        self.message_user(request, ngettext("%(count)d token revoked.",
                                            "%(count)d tokens revoked.", revoked)
                          % {"count": revoked}, messages.SUCCESS)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A publisher's webhook is managed in its portal (audited); the operator sees where
    notices go and how delivery stands, never the secret."""

    list_display = ("publisher", "url", "status", "delivered_sequence", "delivered_at",
                    "pending_sequence", "attempts", "next_attempt_at")
    list_filter = ("status",)
    exclude = ("sealed_secret",)
