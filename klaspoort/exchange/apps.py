from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "klaspoort.exchange"
    label = "exchange"
    verbose_name = _("Publisher and network provider APIs")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from klaspoort.exchange import receivers
        from klaspoort.licences.models import ChildLicence, Contract, GroupLicence
        from klaspoort.roster.signals import (
            nightly_processing_finished,
            nightly_processing_started,
            roster_applied,
        )
        from klaspoort.schools.models import PublisherConsent, School

        roster_applied.connect(receivers.roster_applied, dispatch_uid="exchange.roster_applied")
        # The night's imports first, then the feed's comparisons (decision 0040).
        nightly_processing_started.connect(receivers.nightly_processing_started,
                                           dispatch_uid="exchange.nightly_started")
        nightly_processing_finished.connect(receivers.nightly_processing_finished,
                                            dispatch_uid="exchange.nightly_finished")
        receivers.feed_advanced.connect(receivers.queue_webhook_notice, dispatch_uid="webhook")
        for model in (Contract, PublisherConsent):
            post_save.connect(receivers.school_row_changed, sender=model,
                              dispatch_uid=f"exchange.saved.{model.__name__}")
            post_delete.connect(receivers.school_row_changed, sender=model,
                                dispatch_uid=f"exchange.deleted.{model.__name__}")
        for link in (GroupLicence, ChildLicence):
            post_save.connect(receivers.link_changed, sender=link,
                              dispatch_uid=f"exchange.saved.{link.__name__}")
            post_delete.connect(receivers.link_changed, sender=link,
                                dispatch_uid=f"exchange.deleted.{link.__name__}")
        # Held contracts attach to a school that arrives with a queryset update (decision 0017).
        post_save.connect(receivers.school_saved, sender=School,
                          dispatch_uid="exchange.school_saved")
