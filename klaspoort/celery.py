"""Celery application. Eager (in-process) unless CELERY_BROKER_URL points at a real broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")

app = Celery("klaspoort")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
