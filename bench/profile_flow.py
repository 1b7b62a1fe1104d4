"""Where the pupil flow's server time goes: the same nine requests as bench/locustfile.py, run
in-process with Django's test client under cProfile, against the database bench/pupil_flow.py
left behind. Run with the same environment as the server (see docs/benchmarks.md):

    DATABASE_URL=postgres://…/klaspoort_flow_bench KLASPOORT_VAR_DIR=bench/out/flow-var \
      KLASPOORT_SITE_URL=http://127.0.0.1:8100 KLASPOORT_ALLOWED_HOSTS=testserver \
      .venv/bin/python bench/profile_flow.py [FLOWS]

Prints the CPU time per step (process time, so waiting on PostgreSQL is excluded) and the
functions with the most cumulative time. BENCH_PROFILE=0: step times without the profiler;
BENCH_SORT=tottime and BENCH_LINES=N: another view of the profile; BENCH_SQL=1: the last of
FLOWS flows with every SQL statement of each step (FLOWS 1: a cold start); BENCH_STEPS=7,8: the
profile of those steps only. BENCH_REDIS=1: like BENCH_SQL, the round trips to Redis of each step
of the last flow (one per command, pipeline or script; a script's own commands are not counted,
which `redis-cli info stats` does count).
"""

from __future__ import annotations

import base64
import cProfile
import hashlib
import json
import os
import pstats
import random
import secrets
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

DATA = json.loads((Path(__file__).parent / "out" / "flow-data.json").read_text())
STEPS: dict[str, float] = defaultdict(float)
# One client per role, as a server keeps one handler per process: a new Client would build the
# middleware again (WhiteNoise scans every static file), which no production request pays.
PUPIL = Client(REMOTE_ADDR="127.0.0.1", enforce_csrf_checks=True)
PUBLISHER = Client()
PROFILE = cProfile.Profile()
# Steps to profile (by number); empty: the whole flow.
PROFILED_STEPS = {s for s in os.environ.get("BENCH_STEPS", "").split(",") if s}


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class RedisRoundTrips:
    """Counts what this process sends Redis to answer, while `on`."""

    on = False
    sent: list[str] = []

    @classmethod
    def install(cls) -> None:
        from redis.connection import Connection

        send = Connection.send_packed_command

        def counted(self: Connection, command: object, check_health: bool = True) -> None:
            if cls.on:
                first = command[0] if isinstance(command, list) else command
                cls.sent.append(bytes(first).split(b"\r\n")[2].decode(errors="replace"))
            send(self, command, check_health)  # type: ignore[arg-type]

        Connection.send_packed_command = counted  # type: ignore[method-assign]


def timed(name: str, call: object, *args: object, **kwargs: object) -> object:
    started = time.process_time()
    if os.environ.get("BENCH_REDIS") and RedisRoundTrips.on:
        RedisRoundTrips.sent = []
        response = call(*args, **kwargs)  # type: ignore[operator]
        print(f"--- {name}: {len(RedisRoundTrips.sent)} round trips to Redis "
              f"({' '.join(RedisRoundTrips.sent)})")
    elif os.environ.get("BENCH_SQL"):
        with CaptureQueriesContext(connection) as queries:
            response = call(*args, **kwargs)  # type: ignore[operator]
        print(f"--- {name}: {len(queries)} queries")
        for query in queries:
            print("   ", query["sql"][:160])
    elif name.split()[0] in PROFILED_STEPS and os.environ.get("BENCH_PROFILE", "1") != "0":
        PROFILE.enable()
        response = call(*args, **kwargs)  # type: ignore[operator]
        PROFILE.disable()
    else:
        response = call(*args, **kwargs)  # type: ignore[operator]
    STEPS[name] += time.process_time() - started
    return response


def flow(rng: random.Random) -> None:
    pupil = rng.choice(DATA["pupils"])
    ref, group = DATA["ref"], pupil["group"]
    client = PUPIL
    client.cookies.clear()
    assert timed("1 pupil page", client.get, f"/leerling/{ref}/").status_code == 200
    assert timed("2 group", client.get, f"/leerling/{ref}/groep/{group}/").status_code == 200
    url = f"/leerling/{ref}/groep/{group}/{pupil['pupil']}/"
    assert timed("3 name", client.get, url).status_code == 200
    response = timed("4 pincode", client.post, url, {
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value, "code": pupil["code"],
        "key": "ok"})
    assert response.status_code == 302, response.status_code
    assert timed("5 portal", client.get, "/lesmateriaal/").status_code == 200
    response = timed("6 tile", client.get, f"/lesmateriaal/open/{pupil['product']}/")
    hint = _query(response["Location"])["login_hint"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    response = timed("7 authorize", client.get, "/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": DATA["client_id"],
        "redirect_uri": DATA["redirect_uri"], "scope": "openid profile klaspoort",
        "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256", "login_hint": hint}))
    code = _query(response["Location"])["code"]
    basic = base64.b64encode(f"{DATA['client_id']}:{DATA['client_secret']}".encode()).decode()
    response = timed("8 token", PUBLISHER.post, "/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": DATA["redirect_uri"],
        "code_verifier": verifier}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    token = json.loads(response.content)["access_token"]
    response = timed("9 userinfo", PUBLISHER.get, "/o/userinfo/",
                     HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def main() -> None:
    flows = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rng = random.Random(1)
    if os.environ.get("BENCH_REDIS"):
        RedisRoundTrips.install()
        for _ in range(flows - 1):
            flow(rng)
        RedisRoundTrips.on = True
        flow(rng)
        return
    if os.environ.get("BENCH_SQL"):
        # FLOWS - 1 flows first, unprinted, so the last shows a warm server's statements (with
        # FLOWS 1: the first pupil of the morning, every kept fact read from the database).
        os.environ["BENCH_SQL"] = ""
        for _ in range(flows - 1):
            flow(rng)
        os.environ["BENCH_SQL"] = "1"
        flow(rng)
        return
    for _ in range(5):
        flow(rng)
    STEPS.clear()
    profiling = os.environ.get("BENCH_PROFILE", "1") != "0"
    profile = PROFILE
    if profiling and not PROFILED_STEPS:
        profile.enable()
    for _ in range(flows):
        flow(rng)
    profile.disable()
    total = sum(STEPS.values())
    print(f"CPU per flow (in-process, profiler {'on' if profiling else 'off'}): "
          f"{total / flows * 1000:.1f} ms")
    for name, seconds in sorted(STEPS.items()):
        print(f"  {name:14} {seconds / flows * 1000:6.1f} ms")
    if profiling:
        stats = pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("BENCH_LINES", "40")))


if __name__ == "__main__":
    main()
