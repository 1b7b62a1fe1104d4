from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "klaspoort.schools"
    label = "schools"
    verbose_name = _("Schools")

    def ready(self) -> None:
        # Connects the receiver that accepts an invitation when its account is activated.
        from klaspoort.schools import services  # noqa: F401
