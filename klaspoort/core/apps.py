from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "klaspoort.core"
    label = "klaspoort_core"
    verbose_name = "Klaspoort"

    def ready(self) -> None:
        from klaspoort import epochs
        from klaspoort.checks import TAG, check_production

        epochs.install()
        post_migrate.connect(epochs.move_after_migrate, dispatch_uid="klaspoort.epochs.migrate")

        # Not deploy-only: runserver and migrate run it too, and it is silent on localhost.
        checks.register(check_production, checks.Tags.security, TAG)
