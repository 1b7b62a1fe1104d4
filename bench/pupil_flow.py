"""The pupil flow under load, against PostgreSQL and gunicorn (issue 5, Speed).

    .venv/bin/python bench/pupil_flow.py [--users 16] [--seconds 60] [--workers 4]

1. a fresh PostgreSQL database (BENCH_ADMIN_URL: a role that may create databases), migrated,
   with the data of bench/pupil_flow_data.py (1,000 pupils, 40 contracts, a registered client);
2. Klaspoort under gunicorn (sync workers, production settings: DEBUG off) on 127.0.0.1;
3. locust (bench/locustfile.py) runs the whole flow headless: a warm-up, then the measured run
   with --users pupils at once, each starting the next flow as soon as one ends;
4. the server's CPU time (user + system of gunicorn's master and workers, from /proc) over the
   measured run, divided by the completed flows; locust's latencies per step and per flow.

The load generator runs in its own processes and is not charged. Results: a table on stdout
and bench/out/pupil-flow.json; docs/benchmarks.md section 3 has the figures and the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.procstat import cpu_seconds, store_cpu_seconds, store_pids, tree

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = ROOT / ".venv" / "bin"
DB_NAME = os.environ.get("BENCH_DB", "klaspoort_flow_bench")
PORT = 8100


def run(cmd: list[str], env: dict[str, str], **kwargs: object) -> None:
    subprocess.run(cmd, env=env, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def fresh_database(admin_url: str, name: str = DB_NAME) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def admin_url() -> str:
    """A role that may create databases (BENCH_ADMIN_URL), by default the CI role."""
    return os.environ.get("BENCH_ADMIN_URL",
                          "postgres://klaspoort_ci:klaspoort_ci@localhost:5432/postgres")


def server_env(database_url: str, port: int, cache_url: str, data: Path, var: Path
               ) -> dict[str, str]:
    """Klaspoort's environment as production runs it (DEBUG off, sessions and throttling
    counters in Redis), on 127.0.0.1:port; `data` is where the bench data's JSON goes."""
    return {**os.environ, "DATABASE_URL": database_url, "KLASPOORT_DEBUG": "0",
            "KLASPOORT_SECRET_KEY": "bench-" + "k" * 50,
            "KLASPOORT_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "KLASPOORT_SITE_URL": f"http://127.0.0.1:{port}",
            "KLASPOORT_VAR_DIR": str(var), "KLASPOORT_LOG_LEVEL": "WARNING",
            # Production's shared cache: sessions, throttling counters (docs/operations.md).
            "KLASPOORT_CACHE_URL": cache_url,
            "BENCH_OUT": str(data), "BENCH_DATA": str(data)}


def load_bench_data(env: dict[str, str], log: Path) -> None:
    """Migrate, then the school, publishers and client of bench/pupil_flow_data.py."""
    run([str(BIN / "klaspoort"), "migrate", "-v0"], env)
    with open(log, "w") as out, open(ROOT / "bench" / "pupil_flow_data.py") as script:
        run([str(BIN / "klaspoort"), "shell"], env, stdin=script, stdout=out,
            stderr=subprocess.STDOUT)


def start_gunicorn(env: dict[str, str], workers: int, port: int) -> subprocess.Popen[bytes]:
    """gunicorn with sync workers on 127.0.0.1:port, answering once this returns."""
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "klaspoort.wsgi", "-w", str(workers), "-b",
         f"127.0.0.1:{port}", "--worker-class", "sync", "--log-level", "warning"],
        env=env, cwd=ROOT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/inloggen/")
    except BaseException:
        server.terminate()
        raise
    return server


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own local server
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def locust(env: dict[str, str], users: int, seconds: int, prefix: Path,
           port: int = PORT, extra: tuple[str, ...] = (), spawn_rate: float = 0) -> None:
    run([str(BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "--only-summary",
         "-u", str(users), "-r", str(spawn_rate or users), "-t", f"{seconds}s",
         "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--loglevel", "WARNING",
         *extra], env, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    env = server_env(fresh_database(admin_url()), PORT,
                     os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
                     OUT / "flow-data.json", OUT / "flow-var")
    load_bench_data(env, OUT / "flow-setup.log")
    server = start_gunicorn(env, args.workers, PORT)
    try:
        locust(env, args.users, args.warmup, OUT / "flow-warmup")
        pids = tree(server.pid)
        user0, sys0 = cpu_seconds(pids)
        stores0 = store_cpu_seconds(store_pids())
        wall0 = time.perf_counter()
        locust(env, args.users, args.seconds, OUT / "flow")
        wall = time.perf_counter() - wall0
        user1, sys1 = cpu_seconds(pids)
        stores1 = store_cpu_seconds(store_pids())
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, user1 - user0, sys1 - sys0, wall,
           {name: stores1[name] - stores0.get(name, 0.0) for name in stores1})


def report(args: argparse.Namespace, user: float, system: float, wall: float,
           stores: dict[str, float]) -> None:
    rows = {row["Name"]: row for row in csv.DictReader(open(OUT / "flow_stats.csv"))}  # noqa: SIM115
    flow = rows["complete flow"]
    flows = int(flow["Request Count"]) - int(flow["Failure Count"])
    cpu_ms = (user + system) / max(flows, 1) * 1000
    result = {
        "users": args.users, "seconds": args.seconds, "workers": args.workers,
        "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
        "flows": flows, "failed_flows": int(flow["Failure Count"]),
        "flows_per_second": flows / wall, "server_cpu_user_s": user,
        "server_cpu_system_s": system, "server_cpu_ms_per_flow": cpu_ms,
        # The whole machine's PostgreSQL and Redis: this benchmark's share on a quiet machine.
        "postgresql_cpu_ms_per_flow": stores.get("postgresql", 0.0) / max(flows, 1) * 1000,
        "redis_cpu_ms_per_flow": stores.get("redis", 0.0) / max(flows, 1) * 1000,
        "steps": {name: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                         "p50_ms": float(r["50%"]), "p99_ms": float(r["99%"])}
                  for name, r in sorted(rows.items()) if name != "Aggregated"},
    }
    (OUT / "pupil-flow.json").write_text(json.dumps(result, indent=1))
    print(f"{flows} flows in {wall:.1f} s ({flows / wall:.1f}/s), {result['failed_flows']} failed;"
          f" {args.users} pupils at once, {args.workers} gunicorn workers, {os.cpu_count()} CPUs")
    print(f"server CPU: {user:.1f} s user + {system:.1f} s system = {cpu_ms:.1f} ms per flow")
    print(f"beside it: PostgreSQL {result['postgresql_cpu_ms_per_flow']:.1f} ms, Redis "
          f"{result['redis_cpu_ms_per_flow']:.1f} ms per flow (all of this machine's: quiet "
          f"machine only); load average {os.getloadavg()[0]:.2f}")
    print("| step | requests | failures | p50 ms | p99 ms |")
    for name, step in result["steps"].items():
        print(f"| {name} | {step['requests']} | {step['failures']} | {step['p50_ms']:.0f} | "
              f"{step['p99_ms']:.0f} |")


if __name__ == "__main__":
    main()
