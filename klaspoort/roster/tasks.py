"""Celery tasks: thin wrappers around services, so beat and workers can run the roster jobs."""

import logging

from celery import shared_task

from klaspoort.roster import las_fetch, services

log = logging.getLogger(__name__)


@shared_task(name="klaspoort.roster.tasks.nightly_run")
def nightly_run() -> int:
    """The night: first fetch every automatic coupling (its answers become waiting imports),
    then process what waits. A fetch that fails, even unexpectedly, never stops processing."""
    try:
        las_fetch.fetch_all_couplings()
    except Exception as exc:
        log.error("nightly LAS fetch failed: %s", type(exc).__name__)
    # One process: a Celery worker's process may not fork a pool of its own.
    return len(services.process_the_night())


@shared_task(name="klaspoort.roster.tasks.process_import")
def process_import(import_id: int) -> str:
    return services.process_import(import_id).status


@shared_task(name="klaspoort.roster.tasks.check_roster_file")
def check_roster_file(import_id: int) -> str:
    return services.check_received_import(import_id).status
