"""klaspoort nightly: process every waiting roster import (schedule with cron or Celery beat)."""

from typing import Any

from django.core.management.base import BaseCommand

from klaspoort.roster import services
from klaspoort.roster.models import RosterImport


class Command(BaseCommand):
    help = "Process all roster imports that wait for the nightly run."

    def handle(self, *args: Any, **options: Any) -> None:
        done = services.process_waiting_imports()
        failed = sum(1 for r in done if r.status == RosterImport.Status.FAILED)
        self.stdout.write(f"{len(done)} import(s) processed, {failed} failed")
