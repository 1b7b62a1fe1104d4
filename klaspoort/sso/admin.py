from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import Application

from klaspoort.sso.models import PublisherClient


class PublisherClientInline(admin.StackedInline):
    model = PublisherClient
    can_delete = False
    fields = ("publisher", "name_detail", "chain_partner", "default_target_uri",
              "initiate_login_uri", "disabled_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class KlaspoortApplicationAdmin(ApplicationAdmin):  # type: ignore[misc]
    """The toolkit's client admin with whose software it is. A client without a publisher
    signs nobody in (sso.selectors.decide), and publisher clients always use the code flow
    with RS256 and no consent screen, whatever the form says."""

    inlines = [PublisherClientInline]
    ONLY = {"authorization_grant_type": [Application.GRANT_AUTHORIZATION_CODE],
            "algorithm": [Application.RS256_ALGORITHM]}

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest,
                                   **kwargs: Any) -> Any:
        if db_field.name in self.ONLY:
            kwargs["choices"] = [c for c in db_field.choices if c[0] in self.ONLY[db_field.name]]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        obj.algorithm = Application.RS256_ALGORITHM
        obj.skip_authorization = True
        super().save_model(request, obj, form, change)


admin.site.unregister(Application)
admin.site.register(Application, KlaspoortApplicationAdmin)


@admin.register(PublisherClient)
class PublisherClientAdmin(admin.ModelAdmin):
    list_display = ("__str__", "publisher", "name_detail", "chain_partner", "disabled_at",
                    "created_at")
    list_filter = ("publisher", "name_detail", "chain_partner")
    search_fields = ("application__name", "application__client_id", "publisher__name")
    readonly_fields = ("application", "created_at")
