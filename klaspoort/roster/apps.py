from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    name = "klaspoort.roster"
    label = "roster"
    verbose_name = _("Roster")

    def ready(self) -> None:
        # Connects the receivers: an activated ICT teacher becomes a coordinator; the
        # Gegevens page gets the user-data card.
        from klaspoort.audit.labels import register_code_labels
        from klaspoort.roster import receivers, teacher_accounts  # noqa: F401
        from klaspoort.roster.models import RosterImport

        register_code_labels("status", RosterImport.Status.choices)
