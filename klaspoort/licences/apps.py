from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "klaspoort.licences"
    label = "licences"
    verbose_name = _("Licences")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from klaspoort.audit.labels import register_code_labels
        from klaspoort.licences import receivers
        from klaspoort.licences.models import Contract, Product
        from klaspoort.roster.signals import roster_applied
        from klaspoort.schools.models import School

        roster_applied.connect(receivers.roster_applied, dispatch_uid="licences.roster_applied")
        # Contracts sent before the school was on the platform wait for it (decision 0017).
        post_save.connect(receivers.school_saved, sender=School,
                          dispatch_uid="licences.school_saved")
        register_code_labels("type", Contract.Type.choices)
        register_code_labels("product_type", Product.Type.choices)
