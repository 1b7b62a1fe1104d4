"""The access epoch: one value in the shared cache that changes whenever data behind a sign-in
decision changes, so a decision taken once can be reused while the epoch it was taken in still
holds (issue 17, decision 0039).

RULE: every transaction that writes to a table a decision reads (the roster, licences, schools,
publisher clients and OAuth applications, maintenance notices) moves the epoch when it commits.
The writes are noticed in the database layer itself (a wrapper around every statement on every
connection), not in the code paths that make them: an import's bulk statements, a queryset
`update()` and a migration count exactly like a form's `save()`, and a new code path cannot
forget to announce itself.

Reuse is safe in this order: read the epoch *before* reading what a decision is made of, store
the decision with that epoch, and trust it later only while `current()` still returns it. A
change that commits after the read moves the epoch (after its commit), so the stored epoch no
longer matches; a change that committed before the read is in the data the decision was made
of. An epoch the cache lost (eviction, a restarted Redis) is replaced by a new random one, which
matches nothing stored. The epoch is global, not per school: a coordinator's change anywhere
makes every stored decision be taken again once, which costs one decision each and is rare
during the morning peak; a missed per-school key could not be.

With several processes the epoch must live in a shared cache (Redis), as the throttling counters
must; settings.KLASPOORT_REUSE_DECISIONS is off without one, and then nothing is reused. A
project-level module: it imports no app.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

KEY = "klaspoort:access-epoch"
# Tables whose rows a sign-in decision or the pupil pages are made of (prefixes of db_table).
WATCHED_PREFIXES = ("roster_", "licences_", "schools_", "sso_publisherclient",
                    "oauth2_provider_application", "signin_maintenancenotice")
_WRITES = ("insert", "update", "delete")
_MOVER_ATTR = "_klaspoort_epoch_mover"
_CHECKED_ATTR = "_klaspoort_epoch_checked_list"


def current() -> str:
    """The epoch now; a fresh random one when the cache holds none."""
    value = cache.get(KEY)
    if value is None:
        cache.add(KEY, secrets.token_hex(8), None)
        value = cache.get(KEY)
    return str(value)


def move() -> None:
    """A new epoch: every decision stored with an earlier one is taken again. Never raises: the
    write that moves it has committed already, and an import must not fail because Redis did
    for a moment (what was kept then lives at most KEEP_SECONDS, a code's or a token's life)."""
    try:
        cache.set(KEY, secrets.token_hex(8), None)
    except Exception:
        logger.exception("the access epoch could not move: kept sign-in facts may be stale "
                         "until they expire")


def move_after_migrate(**kwargs: Any) -> None:
    """A deploy's migrations may change what a kept (pickled) row holds: start afresh."""
    move()


def writes_watched_table(sql: str) -> bool:
    """Whether a statement writes to a watched table (INSERT INTO, UPDATE, DELETE FROM)."""
    head = sql.lstrip()[:6].lower()
    if head not in _WRITES:
        return False
    text = sql.lower()
    return any(f'"{prefix}' in text or f" {prefix}" in text for prefix in WATCHED_PREFIXES)


def _move_on_commit(connection: Any) -> None:
    """Have the epoch move when this transaction commits, once however many writes it makes.
    Looked up among the pending callbacks rather than flagged: a rolled-back savepoint drops
    its callbacks, and a write after it must register again. Django replaces its list of
    pending callbacks at every commit, rollback and savepoint rollback and only appends to it
    otherwise, so while the list is the one the mover was found in, the mover is still there
    (an import's thousands of writes then cost no scan each)."""
    mover = getattr(connection, _MOVER_ATTR, None)
    if mover is None:
        mover = lambda: move()  # noqa: E731 - one object per connection, found by identity
        setattr(connection, _MOVER_ATTR, mover)
    pending = connection.run_on_commit
    if getattr(connection, _CHECKED_ATTR, None) is pending:
        return
    if not any(func is mover for _sids, func, _robust in pending):
        transaction.on_commit(mover, using=connection.alias)
    # The list itself, not its id: a freed list's id could come back for a new one.
    setattr(connection, _CHECKED_ATTR, connection.run_on_commit)


def _watch(execute: Callable[..., Any], sql: str, params: Any, many: bool,
           context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and writes_watched_table(sql):
        connection = context["connection"]
        if not connection.in_atomic_block or any(
                getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
            # Committed already (autocommit), or inside a test's transaction, which never
            # commits: what the test reads next is this write, so the epoch moves now.
            move()
        else:
            _move_on_commit(connection)
    return result


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def install() -> None:
    """Watch every database connection, those open now and those opened later."""
    from django.db import connections

    connection_created.connect(_install, dispatch_uid="klaspoort.epochs")
    for connection in connections.all(initialized_only=True):
        _install(None, connection)
