from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "klaspoort.sso"
    label = "sso"
    verbose_name = _("Single sign-on to publishers")

    def ready(self) -> None:
        from klaspoort.sso import receivers  # noqa: F401 (connects the receivers)
