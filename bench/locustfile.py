"""The pupil flow under load (issue 5, Speed): pupil page → group → name → pincode → portal →
tile → authorize → token → userinfo (bench/flow_steps.py), as one locust task, by as many pupils
at once as there are locust users. Started by bench/pupil_flow.py, which also measures the
server's CPU time, and by bench/nodes.py.

The generator plays the publisher's part itself (the token and userinfo calls its server would
make), so every request of the flow reaches Klaspoort and nothing waits on a second application.

Two optional environment variables, for bench/nodes.py's paced hold; unset, nothing changes:
BENCH_FLOWS_PER_USER_PER_S paces each user (locust's constant_throughput) instead of starting
the next flow at once, and BENCH_REQUEST_LOG names a file that gets one line per request and
per flow (time, name, ms, ok, the X-Served-By header, the error), for figures per minute.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from locust import HttpUser, constant, constant_throughput, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.flow_steps import run_flow

DATA = json.loads(open(os.environ["BENCH_DATA"]).read())  # noqa: SIM115
PACE = float(os.environ.get("BENCH_FLOWS_PER_USER_PER_S", "0") or 0)
REQUEST_LOG = os.environ.get("BENCH_REQUEST_LOG", "")

if REQUEST_LOG:
    _log = open(REQUEST_LOG, "a", buffering=1)  # noqa: SIM115 - open for the whole run

    @events.request.add_listener
    def _log_request(name: str, response_time: float, exception: object = None,
                     response: object = None, **kwargs: object) -> None:
        headers = getattr(response, "headers", None) or {}  # none when the connection broke
        served = headers.get("X-Served-By", "-")
        error = str(exception).replace("\t", " ").replace("\n", " ")[:120] if exception else ""
        _log.write(f"{time.time():.3f}\t{name}\t{response_time:.1f}\t{0 if exception else 1}"
                   f"\t{served}\t{error}\n")


class Pupil(HttpUser):
    wait_time = constant_throughput(PACE) if PACE > 0 else constant(0)

    @task
    def flow(self) -> None:
        self.client.cookies.clear()
        started = time.perf_counter()
        try:
            run_flow(self.client, DATA, random.choice(DATA["pupils"]))
        except Exception as exc:
            events.request.fire(request_type="FLOW", name="complete flow",
                                response_time=(time.perf_counter() - started) * 1000,
                                response_length=0, exception=exc, context={})
            return
        events.request.fire(request_type="FLOW", name="complete flow",
                            response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, exception=None, context={})
