"""SQLite as Django ships it, except that the database file's folder is made on the first
connection: reading the settings creates no files, yet `klaspoort migrate` in a fresh clone
(the embedded default: var/klaspoort.sqlite3) works without a `mkdir` first."""

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        name = str(conn_params.get("database", ""))
        # In-memory databases (":memory:", "file:…mode=memory") have no folder.
        if name and name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
