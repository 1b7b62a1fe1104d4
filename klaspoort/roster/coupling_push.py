"""A roster pushed by a school's LAS (issue 14): what the coupling remembers of it.

The pull side (las_fetch) writes the same fields after each nightly fetch; a push is the LAS
fetching on its own, so *Automatische koppeling* shows its last one the same way.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from klaspoort.roster.las_fetch import tell_coordinators_held
from klaspoort.roster.models import RosterCoupling, RosterImport


@transaction.atomic
def record_push(coupling: RosterCoupling, record: RosterImport) -> RosterCoupling:
    """RULE: a pushed file is the coupling's latest fetch: when it came, whether it was
    accepted (a file that failed its checks is a failure, with no separate error: the import
    carries its messages) and which import it became. An accepted push ends a run of failed
    nights; a held one is mailed to the coordinators, as a held fetch is."""
    coupling = RosterCoupling.objects.select_for_update().get(pk=coupling.pk)
    failed = record.status == RosterImport.Status.FAILED
    coupling.last_fetch_at = timezone.now()
    coupling.last_result = (RosterCoupling.Result.FAILED if failed
                            else RosterCoupling.Result.OK)
    coupling.last_import = record
    coupling.last_error = {}
    coupling.failures_in_a_row = coupling.failures_in_a_row + 1 if failed else 0
    coupling.save(update_fields=["last_fetch_at", "last_result", "last_import", "last_error",
                                 "failures_in_a_row"])
    if record.status == RosterImport.Status.HELD:
        tell_coordinators_held(coupling, record)
    return coupling
