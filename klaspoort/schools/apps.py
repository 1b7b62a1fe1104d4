from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "klaspoort.schools"
    label = "schools"
    verbose_name = _("Schools")

    def ready(self) -> None:
        # Connects the receiver that accepts an invitation when its account is activated, and
        # the one that answers the checklist with the school's own items (its addresses).
        from klaspoort.schools import receivers, services  # noqa: F401
