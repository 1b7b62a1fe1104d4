from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from klaspoort.admin_mixins import ReadOnlyAdminMixin
from klaspoort.exchange.models import PublisherApiToken, Webhook


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


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A publisher's webhook is managed in its portal (audited); the operator sees where
    notices go and how delivery stands, never the secret."""

    list_display = ("publisher", "url", "status", "delivered_sequence", "delivered_at",
                    "pending_sequence", "attempts", "next_attempt_at")
    list_filter = ("status",)
    exclude = ("sealed_secret",)
