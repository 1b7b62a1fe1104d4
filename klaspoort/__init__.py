"""Klaspoort: the access and licence hub for Dutch primary schools."""

from klaspoort.celery import app as celery_app

__all__ = ["celery_app"]
