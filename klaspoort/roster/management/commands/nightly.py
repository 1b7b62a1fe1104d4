"""klaspoort nightly [--workers N]: process every waiting roster import (cron or Celery beat)."""

import multiprocessing
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.utils.translation import gettext as _

from klaspoort.roster import services
from klaspoort.roster.models import RosterImport


def _process_school(import_ids: list[int]) -> list[str]:
    return [services.process_import(pk).status for pk in import_ids]


class Command(BaseCommand):
    help = "Process all roster imports that wait for the nightly run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=1,
            help="processes that work in parallel, each on whole schools with its own "
                 "database connection (default 1; use the number of cores). PostgreSQL only: "
                 "on SQLite the imports are processed one after the other",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers < 1:
            raise CommandError(_("--workers must be at least 1."))
        # SQLite lets one transaction write at a time: more workers would only wait in turn.
        if workers == 1 or connection.vendor == "sqlite":
            statuses = [r.status for r in services.process_waiting_imports()]
        else:
            schools = services.waiting_imports_by_school()
            # A forked worker must open its own connection, not share the parent's socket.
            connections.close_all()
            statuses = []
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for done in pool.imap_unordered(_process_school, schools):
                    statuses.extend(done)
        failed = statuses.count(RosterImport.Status.FAILED)
        held = statuses.count(RosterImport.Status.HELD)
        # An operator's log line that scripts read: a fixed English format, not translated.
        self.stdout.write(f"{len(statuses)} import(s) processed, {failed} failed, {held} held "
                          "for confirmation")
