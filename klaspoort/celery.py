"""Celery application. Eager (in-process) unless CELERY_BROKER_URL points at a real broker."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")

app = Celery("klaspoort")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_unsafe_start(**_kwargs: object) -> None:
    # A worker runs no system checks of its own: like the web server, it does not start with an
    # unsafe production configuration (decision 0019).
    from klaspoort.checks import refuse_unsafe_start

    refuse_unsafe_start()
