from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    name = "klaspoort.signin"
    label = "signin"
    verbose_name = _("Pupil sign-in and portal")

    def ready(self) -> None:
        # Connects the receiver that adds the home sign-in card to the Gegevens page.
        from klaspoort.signin import receivers  # noqa: F401
