from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "klaspoort.licences"
    label = "licences"
    verbose_name = _("Licences")

    def ready(self) -> None:
        from klaspoort.licences import receivers
        from klaspoort.roster.signals import roster_applied

        roster_applied.connect(receivers.roster_applied, dispatch_uid="licences.roster_applied")
