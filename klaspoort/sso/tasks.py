"""Celery tasks of single sign-on: thin, the rules are in services."""

from __future__ import annotations

from celery import shared_task

from klaspoort.sso import services


@shared_task(name="klaspoort.sso.tasks.clear_expired_sign_ins")
def clear_expired_sign_ins() -> None:
    services.clear_expired_sign_ins()
