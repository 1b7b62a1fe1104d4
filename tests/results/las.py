"""The example LAS (examples/las_app) serving in a thread of the test, and the rows a delivery
test needs: a school with pupils, a LAS in the catalogue pointing at the served LAS, a results
coupling with the key the LAS expects."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from examples.las_app import Config, School, make_app, serve
from examples.las_app.results import ResultsStore
from klaspoort.results.delivery import KEY_PURPOSE
from klaspoort.results.models import ResultCoupling
from klaspoort.roster.secrets import seal_text

KEY = "regenboog-resultaten-sleutel-4711"
BRIN6 = "99ZZ00"


@dataclass
class ServedLas:
    url: str
    store: ResultsStore
    config: Config


@contextlib.contextmanager
def served_las(*, schools: dict[str, str] | None = None, delay_ms: int = 0
               ) -> Iterator[ServedLas]:
    """The example LAS on a free port of 127.0.0.1, knowing `schools` (BRIN6 → key; by
    default 99ZZ00 with KEY); its results store is the test's to read."""
    known = schools or {BRIN6: KEY}
    config = Config(schools={brin6: School(brin6[:4], brin6[4:], 10, key)
                             for brin6, key in known.items()},
                    host="127.0.0.1", port=0, results_delay_ms=delay_ms)
    store = ResultsStore()
    server = serve(config, make_app(config, store))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ServedLas(f"http://127.0.0.1:{server.server_port}{config.results_path}", store,
                        config)
    finally:
        server.shutdown()
        server.server_close()


def coupling_for(school, las, *, key: str = KEY, boundaries: bool = False) -> ResultCoupling:
    """The school's results coupling to `las`, as a coordinator adds it: the key sealed, since
    a day ago (so the results of the test are new)."""
    return ResultCoupling.objects.create(
        school=school, las=las, sealed_key=seal_text(KEY_PURPOSE, key), key_last4=key[-4:],
        send_grade_boundaries=boundaries, since=timezone.now() - dt.timedelta(days=1))
