"""Django's `cached_db` session engine, written once per new key
(klaspoort.sessions.WriteOnce)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends import cached_db

from klaspoort.sessions import WriteOnce

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(WriteOnce, cached_db.SessionStore):
    def _inserted(self) -> None:
        # As cached_db.SessionStore.save after its database write.
        store: Any = self
        try:
            store._cache.set(store.cache_key, store._session, store.get_expiry_age())
        except Exception:
            logger.exception("Error saving to cache (%s)", store._cache)
