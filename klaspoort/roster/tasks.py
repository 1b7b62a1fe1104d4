"""Celery tasks: thin wrappers around services, so beat and workers can run the roster jobs."""

from celery import shared_task

from klaspoort.roster import services


@shared_task(name="klaspoort.roster.tasks.nightly_run")
def nightly_run() -> int:
    return len(services.process_waiting_imports())


@shared_task(name="klaspoort.roster.tasks.process_import")
def process_import(import_id: int) -> str:
    return services.process_import(import_id).status


@shared_task(name="klaspoort.roster.tasks.check_roster_file")
def check_roster_file(import_id: int) -> str:
    return services.check_received_import(import_id).status
