"""Celery finds tasks in the installed apps' `tasks` modules; the project-level ones are here."""

from klaspoort.mail import send_mail

__all__ = ["send_mail"]
