from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SsoConfig(AppConfig):
    name = "klaspoort.sso"
    label = "sso"
    verbose_name = _("Single sign-on to publishers")

    def ready(self) -> None:
        from klaspoort.audit.labels import register_code_labels
        from klaspoort.sso import receivers  # noqa: F401 (connects the receivers)
        from klaspoort.sso.models import PublisherClient

        # The Logboek's words for the values the client changes write (sso.services).
        register_code_labels("client_type", [
            ("confidential", pgettext_lazy("logboek", "confidential (with a secret)")),
            ("public", pgettext_lazy("logboek", "public (PKCE, no secret)"))])
        register_code_labels("name_detail", PublisherClient.NameDetail.choices)
