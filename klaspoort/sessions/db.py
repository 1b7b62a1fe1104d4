"""Django's `db` session engine, written once per new key (klaspoort.sessions.WriteOnce)."""

from __future__ import annotations

from django.contrib.sessions.backends import db

from klaspoort.sessions import WriteOnce


class SessionStore(WriteOnce, db.SessionStore):
    pass
