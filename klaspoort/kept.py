"""Facts read from the database once and kept in the shared cache under the access epoch
(klaspoort.epochs, decision 0039), for the pages every pupil of a school opens in the same few
minutes: the school behind a pupil page, its networks, its groups and names, the maintenance
notices, a pupil's access (issue 17).

RULE: a request reads the epoch once, before it reads any fact, and looks a fact up only under
that epoch (the epoch is part of the key); a fact read from the database is stored under the
epoch read before it. Any committed write to a table a fact is made of moves the epoch, so the
next request looks under a new key, misses, and reads the database again: a group renamed, a
pupil deactivated, a network removed or a notice posted shows on the very next page. Nothing
is kept while settings.KLASPOORT_REUSE_DECISIONS is off (no shared cache), nor what was read
inside a transaction of the request's own (it may still be rolled back, and a rollback does
not move the epoch). Entries under an old epoch are never read again and expire after
KEEP_SECONDS. A project-level module: it imports no app.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from klaspoort import epochs

KEEP_SECONDS = 15 * 60
_ATTR = "_klaspoort_kept"
T = TypeVar("T")
# The Kept of the request being served, for code it calls that gets no request of Django's
# (django-oauth-toolkit's validator sees only oauthlib's request).
_SERVING: contextvars.ContextVar[Kept | None] = contextvars.ContextVar("klaspoort_kept",
                                                                       default=None)


def digest(value: str) -> str:
    """How a secret-ish value (a pupil page's reference) is named in a key: never as itself."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _may_keep() -> bool:
    """Whether what was just read is committed data (outside a transaction of our own; a test's
    transaction never commits, and there the epoch moves at once, see epochs._watch)."""
    return not connection.in_atomic_block or all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


class Kept:
    """One request's view of the kept facts: the epoch read once, before any of them."""

    def __init__(self) -> None:
        self.epoch = epochs.current() if settings.KLASPOORT_REUSE_DECISIONS else None
        self._found: dict[str, Any] = {}
        self._looked: set[str] = set()  # asked of the cache already (found or not)

    @classmethod
    def of(cls, request: Any) -> Kept:
        """The request's Kept, made (and the epoch read) at its first use in the request."""
        kept = getattr(request, _ATTR, None)
        if kept is None:
            kept = cls()
            setattr(request, _ATTR, kept)
        return kept

    @contextmanager
    def serving(self) -> Iterator[Kept]:
        """Within the block, serving_now() answers this Kept: code the request calls without
        handing it the request (a library's callbacks) uses the request's one epoch."""
        token = _SERVING.set(self)
        try:
            yield self
        finally:
            _SERVING.reset(token)

    @staticmethod
    def serving_now() -> Kept | None:
        """The Kept of the request being served inside Kept.serving, else None."""
        return _SERVING.get()

    def _key(self, name: str) -> str:
        return f"kept:{self.epoch}:{name}"

    def prefetch(self, *names: str) -> None:
        """Fetch several facts in one round trip to the cache (those it holds)."""
        wanted = [name for name in names if name not in self._found]
        if self.epoch is None or not wanted:
            return
        keys = {self._key(name): name for name in wanted}
        self._looked.update(wanted)
        for key, value in cache.get_many(list(keys)).items():
            self._found[keys[key]] = value

    def get(self, name: str, read: Callable[[], T], *, keep_none: bool = False) -> T:
        """The fact `name`: as kept under this request's epoch, else `read()` (and kept).
        None is kept only when asked: an unknown reference must not fill the cache."""
        if name in self._found:
            return self._found[name]  # type: ignore[no-any-return]
        if self.epoch is not None and name not in self._looked:
            self._looked.add(name)
            found = cache.get(self._key(name), _MISSING)
            if found is not _MISSING:
                self._found[name] = found
                return found  # type: ignore[no-any-return]
        value = read()
        self._found[name] = value
        if self.epoch is not None and (value is not None or keep_none) and _may_keep():
            cache.set(self._key(name), value, KEEP_SECONDS)
        return value


_MISSING = object()
