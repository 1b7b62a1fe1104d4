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
    # unsafe production configuration (decision 0019). Celery logs and swallows an exception
    # from a signal handler, so the refusal is a SystemExit, which stops the worker.
    from django.core.exceptions import ImproperlyConfigured

    from klaspoort.checks import refuse_unsafe_start

    try:
        refuse_unsafe_start()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from None
