"""Django's database session engines, written once per sign-in instead of three times
(issue 17): `klaspoort.sessions.db` and `klaspoort.sessions.cached_db` are Django's `db` and
`cached_db` engines with WriteOnce mixed in. A project-level package: it imports no app.

RULE: a new session key (login() cycles it: session fixation protection) is chosen at once and
is what the rest of the request sees, but the row is written only when the request's session
is saved, as one INSERT. Django instead asks the database whether the random key exists, inserts
an empty row, and updates it with the data at the end of the request (SELECT, BEGIN, INSERT,
COMMIT, BEGIN, UPDATE, COMMIT). Nothing is lost by waiting: the old key is deleted at once as
before; the new key means nothing to anybody until the response carries it in the cookie, and
the response is only sent after the save. A key that happens to exist already (2^-190) makes
the INSERT fail on the primary key, and a new key is drawn, which is all the existence check
guarded against.

RULE (issue 17, sizing): a session that ends when the browser closes (a pupil's, set_expiry(0))
is kept on the server at most BROWSER_SESSION_KEPT_SECONDS, not Django's two weeks: the pupil
signs in again the next school day anyway (signin.session.PUPIL_SESSION_HOURS ends it after a
school day), and two weeks of the country's morning sign-ins would be some fifteen million
sessions in Redis and PostgreSQL.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

BROWSER_SESSION_KEPT_SECONDS = 12 * 60 * 60  # longer than a school day


class WriteOnce:
    """Mixed in before a database session store: create() only picks the key; save() inserts."""

    _unwritten = False

    def _ends_with_browser(self, kwargs: dict[str, Any]) -> bool:
        store: Any = self
        expiry = kwargs["expiry"] if "expiry" in kwargs else store.get("_session_expiry")
        return expiry == 0 and not isinstance(expiry, bool)

    def get_expiry_age(self, **kwargs: Any) -> int:
        age: int = super().get_expiry_age(**kwargs)  # type: ignore[misc]
        if self._ends_with_browser(kwargs):
            return min(age, BROWSER_SESSION_KEPT_SECONDS)
        return age

    def get_expiry_date(self, **kwargs: Any) -> datetime.datetime:
        date: datetime.datetime = super().get_expiry_date(**kwargs)  # type: ignore[misc]
        if self._ends_with_browser(kwargs):
            modification = kwargs.get("modification") or timezone.now()
            return min(date, modification + datetime.timedelta(
                seconds=BROWSER_SESSION_KEPT_SECONDS))
        return date

    def _new_key(self) -> None:
        store: Any = self  # a SessionBase: its key's setter validates
        store._session_key = get_random_string(32, VALID_KEY_CHARS)

    def create(self) -> None:
        self._new_key()
        self._unwritten = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:  # type: ignore[attr-defined]
            self.create()
        if not self._unwritten:
            super().save(must_create)  # type: ignore[misc]
            return
        while True:
            try:
                self._insert()
            except CreateError:
                self._new_key()
                continue
            self._unwritten = False
            return

    def _insert(self) -> None:
        store: Any = self
        obj = store.create_model_instance(store._get_session(no_load=True))
        using = router.db_for_write(store.model, instance=obj)
        try:
            if connections[using].in_atomic_block:
                # Inside a transaction a failed INSERT must not break it: a savepoint.
                with transaction.atomic(using=using):
                    obj.save(force_insert=True, using=using)
            else:
                obj.save(force_insert=True, using=using)  # one statement, atomic by itself
        except IntegrityError as exc:
            raise CreateError from exc
        self._inserted()

    def _inserted(self) -> None:
        """What the store does after its row is written (cached_db: the cache entry)."""
