"""klaspoort nightly [--workers N] [--no-fetch] [--fetch-workers N]: fetch every automatic LAS
coupling, then process every waiting roster import (cron or Celery beat)."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.roster import las_fetch, services
from klaspoort.roster.models import RosterImport

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Fetch the roster of every automatic LAS coupling, then process all roster imports "
            "that wait for the nightly run.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=1,
            help="processes that work in parallel, each on whole schools with its own "
                 "database connection (default 1; use the number of cores). PostgreSQL only: "
                 "on SQLite the imports are processed one after the other",
        )
        parser.add_argument(
            "--no-fetch", action="store_true",
            help="do not fetch the automatic LAS couplings first; only process what waits",
        )
        parser.add_argument(
            "--fetch-workers", type=int, default=None,
            help="couplings fetched at the same time (threads; default "
                 "KLASPOORT_LAS_FETCH_WORKERS, 8)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers < 1:
            raise CommandError(_("--workers must be at least 1."))
        fetch_workers = options["fetch_workers"]
        if fetch_workers is not None and fetch_workers < 1:
            raise CommandError(_("--fetch-workers must be at least 1."))
        if not options["no_fetch"]:
            self._fetch(fetch_workers)
        def report(statuses: list[str]) -> None:
            failed = statuses.count(RosterImport.Status.FAILED)
            held = statuses.count(RosterImport.Status.HELD)
            # An operator's log line that scripts read: a fixed English format, not
            # translated. Flushed: the feed's comparisons come after it (decision 0040).
            self.stdout.write(f"{len(statuses)} import(s) processed, {failed} failed, {held} "
                              "held for confirmation")
            self.stdout.flush()

        services.process_the_night(workers, done=report)

    def _fetch(self, workers: int | None) -> None:
        """Fetch first, so tonight's answers are processed tonight; a failing fetch is logged
        and the night's processing goes on."""
        try:
            counts = las_fetch.fetch_all_couplings(workers)
        except Exception as exc:
            log.error("nightly LAS fetch failed: %s", type(exc).__name__)
            return
        if counts["fetched"]:
            # A fixed English line for scripts, like the processing line below it.
            self.stdout.write(f"{counts['fetched']} coupling(s) fetched, {counts['failed']} "
                              f"failed, {counts['imported']} import(s) received")
