"""Benchmarks run against a database of their own, on disk, and never the test suite's.

pytest-django would give SQLite an in-memory test database, which is faster than the file the
application really uses, and would share PostgreSQL's test_klaspoort with test runs going on at
the same time; both would make the figures wrong.
"""

from pathlib import Path

import pytest
from django.conf import settings

OUT = Path(__file__).resolve().parent / "out"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        OUT.mkdir(exist_ok=True)
        name = OUT / "bench.sqlite3"
        for leftover in OUT.glob("bench.sqlite3*"):
            leftover.unlink()
        database.setdefault("TEST", {})["NAME"] = str(name)
    else:
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_bench"
