"""Klaspoort's OIDC leg beside panva's certified oidc-provider, in one run (issue 17, item 1).

    .venv/bin/python bench/oidc_leg.py [--concurrency 8] [--seconds 30] [--warmup 10]

The leg: a user who is already signed in (session cookie) opens authorize (code flow, PKCE
S256, scope `openid profile klaspoort`, state and nonce) and gets a redirect with a code; the
client redeems it at the token endpoint (client_secret_basic; access token and RS256 ID token)
and calls userinfo with the bearer token. Both providers get the same requests.

1. node (Debian's package) and bench/oidc-provider/node_modules (`npm ci` from the committed
   package-lock.json, run here if missing; `make test` never installs it);
2. Klaspoort as bench/pupil_flow.py serves it: a fresh PostgreSQL database (BENCH_ADMIN_URL)
   with the data of bench/pupil_flow_data.py, gunicorn with 2 sync workers per CPU, production
   settings, sessions in Redis (BENCH_CACHE_URL); bench/oidc-provider/server.mjs beside it;
3. per server in turn: C simulated users sign in once (a pupil with the pupil pages and the
   group's pincode; on oidc-provider its one-off bench_login interaction), run the leg for the
   warm-up, then for the measured seconds, each starting the next leg when one ends;
4. over the measured window: the CPU time (user + system, /proc) of the server's process tree
   per completed leg, and beside it that of Klaspoort's PostgreSQL backends and of redis-server
   (oidc-provider keeps everything in its own process); latency p50/p99 per step; legs/s; the
   load generator's CPU and the machine's idle time, to show the server was the bottleneck.

The load generator is C plain Python processes (multiprocessing and http.client, a new
connection per request as gunicorn's sync workers close each one anyway) rather than locust:
oidc-provider spends only a few milliseconds of CPU on a whole leg, and locust's requests-based
users would spend about as much per leg on their side, taking one of the 2 CPUs the server
needs. These processes cost about 0.6 ms per request; their CPU is not charged, and the table
shows it (generator CPUs) beside what the rest of the machine did (other CPUs).

Results: a table on stdout and bench/out/oidc-leg.json; docs/benchmarks.md section 8.2.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing as mp
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.procstat import TICKS, cpu_seconds, processes_named, tree  # noqa: E402

OUT = ROOT / "bench" / "out"
NODE_DIR = ROOT / "bench" / "oidc-provider"
DB_NAME = "klaspoort_oidc_leg_bench"  # not pupil_flow's: both benches may be set up at once
STEPS = ("authorize", "token", "userinfo")
SCOPE = "openid profile klaspoort"


# --- the servers -----------------------------------------------------------------------------

def need_node() -> None:
    """node and npm from Debian, then oidc-provider from the committed lock file."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise SystemExit("node is missing: apt-get update && apt-get install -y nodejs npm")
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
                       check=True)


def start_node(port: int, data: dict[str, Any]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_CLIENT_ID": data["client_id"],
           "BENCH_CLIENT_SECRET": data["client_secret"], "BENCH_REDIRECT_URI": data["redirect_uri"]}
    log = open(OUT / "oidc-leg-node.log", "w")  # noqa: SIM115 - the server's, closed with it
    server = subprocess.Popen(["node", str(NODE_DIR / "server.mjs"), str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    from bench.pupil_flow import wait_until_up
    try:
        wait_until_up(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
    except BaseException:
        server.terminate()
        raise
    return server


# --- one simulated user ----------------------------------------------------------------------

class Browser:
    """The cookies of one user agent (path / only: those an authorization request gets)."""

    def __init__(self, cookies: dict[str, str]) -> None:
        self.cookies = cookies

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def take(self, response: http.client.HTTPResponse) -> None:
        for line in response.headers.get_all("Set-Cookie") or []:
            pair, _, attributes = line.partition(";")
            name, _, value = pair.strip().partition("=")
            attributes = attributes.lower().replace(" ", "")
            if "path=/;" not in attributes + ";" and "path=" in attributes:
                continue
            if "max-age=0" in attributes or "1970" in attributes:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(server: dict[str, Any], data: dict[str, Any], number: int) -> dict[str, str]:
    """Sign user `number` in once, as a browser would; returns the session's cookies."""
    import requests

    base = server["base"]
    session = requests.Session()
    if server["name"] == "klaspoort":
        pupil = data["pupils"][number % len(data["pupils"])]
        ref, group = data["ref"], pupil["group"]
        session.get(f"{base}/leerling/{ref}/").raise_for_status()
        session.get(f"{base}/leerling/{ref}/groep/{group}/").raise_for_status()
        url = f"{base}/leerling/{ref}/groep/{group}/{pupil['pupil']}/"
        session.get(url).raise_for_status()
        response = session.post(url, allow_redirects=False, data={
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "code": pupil["code"],
            "key": "ok"})
        if response.status_code != 302:
            raise RuntimeError(f"pupil sign-in: HTTP {response.status_code}")
    else:
        response = session.get(base + server["authorize"] + "?" + urlencode(
            _authorize_params(data, _challenge(secrets.token_urlsafe(48)))),
            allow_redirects=False)
        interaction = urljoin(base, response.headers["Location"])
        response = session.get(interaction, params={"bench_login": f"pupil-{number}"},
                               allow_redirects=False)
        response = session.get(urljoin(base, response.headers["Location"]),
                               allow_redirects=False)
        if "code" not in _query(response.headers.get("Location", "")):
            raise RuntimeError(f"oidc-provider sign-in: HTTP {response.status_code}")
    return {c.name: c.value for c in session.cookies if c.path == "/" and c.value}


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize_params(data: dict[str, Any], challenge: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": data["client_id"],
            "redirect_uri": data["redirect_uri"], "scope": SCOPE,
            "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge, "code_challenge_method": "S256"}


def leg(conn: http.client.HTTPConnection, server: dict[str, Any], data: dict[str, Any],
        browser: Browser, basic: str) -> list[float]:
    """authorize → token → userinfo once; the seconds each step took."""
    times = []
    # gunicorn's sync workers close every connection; unless --keep-alive, oidc-provider gets
    # a new connection per request too, so both pay the same for TCP.
    close = {} if server["keep_alive"] else {"Connection": "close"}
    verifier = secrets.token_urlsafe(48)
    started = time.perf_counter()
    conn.request("GET", server["authorize"] + "?" + urlencode(
        _authorize_params(data, _challenge(verifier))),
        headers={"Cookie": browser.header(), **close})
    response = conn.getresponse()
    response.read()
    browser.take(response)
    code = _query(response.headers.get("Location", "")).get("code")
    if response.status not in (302, 303) or not code:
        raise RuntimeError(f"authorize: HTTP {response.status} {response.headers.get('Location')}")
    times.append(time.perf_counter() - started)
    started = time.perf_counter()
    conn.request("POST", server["token"], body=urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": data["redirect_uri"],
        "code_verifier": verifier}), headers={
        "Authorization": basic, "Content-Type": "application/x-www-form-urlencoded", **close})
    response = conn.getresponse()
    body = json.loads(response.read())
    if response.status != 200 or "id_token" not in body:
        raise RuntimeError(f"token: HTTP {response.status} {body}")
    times.append(time.perf_counter() - started)
    started = time.perf_counter()
    conn.request("GET", server["userinfo"],
                 headers={"Authorization": f"Bearer {body['access_token']}", **close})
    response = conn.getresponse()
    claims = json.loads(response.read())
    if response.status != 200 or "sub" not in claims:
        raise RuntimeError(f"userinfo: HTTP {response.status} {claims}")
    times.append(time.perf_counter() - started)
    return times


def user(server: dict[str, Any], data: dict[str, Any], number: int, start: Any,
         results: Any) -> None:
    """One simulated user: sign in, say so, then legs from start[0] (warm-up) until start[2];
    those that end inside [start[1], start[2]] are measured."""
    try:
        browser = Browser(sign_in(server, data, number))
    except Exception as exc:
        results.put({"error": f"sign-in: {exc!r}"})
        return
    results.put({"ready": number})
    while start[0] == 0:
        time.sleep(0.01)
    warm, measure, end = start[0], start[1], start[2]
    while time.time() < warm:
        time.sleep(0.001)
    basic = "Basic " + base64.b64encode(
        f"{data['client_id']}:{data['client_secret']}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
    steps: list[list[float]] = [[] for _ in STEPS]
    legs = failures = 0
    error = ""
    while time.time() < end:
        try:
            times = leg(conn, server, data, browser, basic)
        except Exception as exc:
            conn.close()
            if time.time() >= measure:
                failures += 1
                error = error or repr(exc)
            continue
        if measure <= time.time() <= end:
            legs += 1
            for step, seconds in zip(steps, times, strict=True):
                step.append(seconds * 1000)
    results.put({"legs": legs, "failures": failures, "error": error, "steps": steps})


# --- measuring -------------------------------------------------------------------------------

def machine_ticks() -> tuple[int, int]:
    """(busy, idle) jiffies of all CPUs since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, idle


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: sum(cpu_seconds([pid])) for pid in pids}


def stores() -> list[int]:
    """Klaspoort's PostgreSQL backends of the bench database, and redis-server (shared with
    whatever else uses Redis on this machine: an upper bound)."""
    return processes_named("postgres: ", f" {DB_NAME} ") + processes_named("redis-server")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(server: dict[str, Any], data: dict[str, Any], args: argparse.Namespace
            ) -> dict[str, Any]:
    context = mp.get_context("fork")
    start = context.Array("d", 3)
    results = context.Queue()
    users = [context.Process(target=user, args=(server, data, n, start, results))
             for n in range(args.concurrency)]
    for process in users:
        process.start()
    try:
        for _ in users:
            message = results.get(timeout=120)
            if "error" in message:
                raise SystemExit(f"{server['name']}: {message['error']}")
        warm = time.time() + 0.2
        start[0], start[1], start[2] = warm, warm + args.warmup, warm + args.warmup + args.seconds
        time.sleep(max(0.0, start[1] - time.time()))
        pids = tree(server["process"].pid)
        store_pids = stores() if server["name"] == "klaspoort" else []
        generator = [p.pid for p in users]
        cpu0, store0, gen0 = cpu_seconds(pids), cpu_by_pid(store_pids), cpu_seconds(generator)
        busy0, idle0 = machine_ticks()
        wall0 = time.perf_counter()
        time.sleep(max(0.0, start[2] - time.time()))
        cpu1, gen1 = cpu_seconds(pids), cpu_seconds(generator)
        busy1, idle1 = machine_ticks()
        wall = time.perf_counter() - wall0
        load = os.getloadavg()
        store_pids = stores() if server["name"] == "klaspoort" else []
        store1 = cpu_by_pid(store_pids)
        gathered = [results.get(timeout=60) for _ in users]
    finally:
        for process in users:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    return {
        "legs": sum(r["legs"] for r in gathered),
        "failed_legs": sum(r["failures"] for r in gathered),
        "first_error": next((r["error"] for r in gathered if r["error"]), ""),
        "wall_s": wall, "user_s": cpu1[0] - cpu0[0], "system_s": cpu1[1] - cpu0[1],
        "store_s": sum(store1[p] - store0.get(p, 0.0) for p in store1),
        "generator_s": sum(gen1) - sum(gen0), "busy_s": (busy1 - busy0) / TICKS,
        "idle_s": (idle1 - idle0) / TICKS, "load_average": [round(v, 2) for v in load],
        "steps": [[ms for r in gathered for ms in r["steps"][i]] for i in range(len(STEPS))],
    }


def summary(name: str, rounds: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    """The figures of one server over all its measured windows (sums, then ratios)."""
    def total(key: str) -> float:
        return sum(r[key] for r in rounds)

    legs, wall = int(total("legs")), total("wall_s")
    server_s = total("user_s") + total("system_s")
    return {
        "server": name, "concurrency": concurrency, "rounds": len(rounds),
        "seconds": round(wall, 2), "legs": legs, "failed_legs": int(total("failed_legs")),
        "first_error": next((r["first_error"] for r in rounds if r["first_error"]), ""),
        "legs_per_second": legs / wall,
        "server_cpu_user_s": total("user_s"), "server_cpu_system_s": total("system_s"),
        "server_cpu_ms_per_leg": server_s / max(legs, 1) * 1000,
        "server_cpu_ms_per_leg_by_round": [
            (r["user_s"] + r["system_s"]) / max(r["legs"], 1) * 1000 for r in rounds],
        "server_cpus_busy": server_s / wall,
        "store_cpu_ms_per_leg": total("store_s") / max(legs, 1) * 1000,
        "generator_cpus_busy": total("generator_s") / wall,
        # Everything else the machine did meanwhile (other people's work, the kernel's).
        "other_cpus_busy": (total("busy_s") - server_s - total("store_s")
                            - total("generator_s")) / wall,
        "machine_idle_fraction": total("idle_s") / (total("busy_s") + total("idle_s")),
        "machine_cpus": os.cpu_count(),
        "load_average_at_end": rounds[-1]["load_average"],
        "steps": {name: {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}
                  for name, values in zip(STEPS, (
                      [ms for r in rounds for ms in r["steps"][i]] for i in range(len(STEPS))),
                      strict=True)},
    }


# --- the run ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Needs node and npm: apt-get install nodejs npm")
    parser.add_argument("--concurrency", type=int, default=8, help="simulated users at once")
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds per server")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up seconds per server")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measured windows per server, taken in turn (figures: the sums)")
    parser.add_argument("--keep-alive", action="store_true",
                        help="let oidc-provider keep connections open (gunicorn closes them)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                        help="gunicorn workers (default: 2 per CPU, as bench/pupil_flow.py)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8200")),
                        help="Klaspoort's port; oidc-provider gets the next one")
    args = parser.parse_args()
    need_node()
    from bench.pupil_flow import (
        admin_url,
        fresh_database,
        load_bench_data,
        server_env,
        start_gunicorn,
    )

    OUT.mkdir(exist_ok=True)
    env = server_env(fresh_database(admin_url(), DB_NAME), args.port,
                     os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/11"),
                     OUT / "oidc-leg-data.json", OUT / "oidc-leg-var")
    load_bench_data(env, OUT / "oidc-leg-setup.log")
    data = json.loads((OUT / "oidc-leg-data.json").read_text())
    klaspoort = start_gunicorn(env, args.workers, args.port)
    node = None
    try:
        node = start_node(args.port + 1, data)
        servers = [
            {"name": "klaspoort", "port": args.port, "process": klaspoort,
             "authorize": "/o/authorize/", "token": "/o/token/", "userinfo": "/o/userinfo/"},
            {"name": "oidc-provider", "port": args.port + 1, "process": node,
             "authorize": "/auth", "token": "/token", "userinfo": "/me"},
        ]
        rounds: dict[str, list[dict[str, Any]]] = {s["name"]: [] for s in servers}
        for server in servers:
            server["base"] = f"http://127.0.0.1:{server['port']}"
            server["keep_alive"] = args.keep_alive
        # Rounds alternate between the servers, so both meet the same (shared) machine.
        for _ in range(args.rounds):
            for server in servers:
                rounds[server["name"]].append(measure(server, data, args))
        results = [summary(name, measured, args.concurrency)
                   for name, measured in rounds.items()]
    finally:
        for process in (node, klaspoort):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    report(args, results)


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    by_name = {r["server"]: r for r in results}
    ratio = (by_name["klaspoort"]["server_cpu_ms_per_leg"]
             / by_name["oidc-provider"]["server_cpu_ms_per_leg"])
    with_stores = ((by_name["klaspoort"]["server_cpu_ms_per_leg"]
                    + by_name["klaspoort"]["store_cpu_ms_per_leg"])
                   / by_name["oidc-provider"]["server_cpu_ms_per_leg"])
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    result = {
        "command": " ".join([".venv/bin/python", "bench/oidc_leg.py", *sys.argv[1:]]),
        "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "workers": args.workers, "node": node_version.strip(),
        "oidc_provider": lock["packages"]["node_modules/oidc-provider"]["version"],
        "ratio_server_cpu": ratio, "ratio_with_postgresql_and_redis": with_stores,
        "servers": results,
    }
    (OUT / "oidc-leg.json").write_text(json.dumps(result, indent=1))
    print(f"{result['command']}  ({result['when_utc']} UTC; {os.cpu_count()} CPUs, "
          f"{args.workers} gunicorn workers, node {result['node']}, oidc-provider "
          f"{result['oidc_provider']}, {args.concurrency} users at once, {args.rounds} x "
          f"{args.seconds} s per server)")
    print("| server | legs/s | failed | server CPU ms/leg | + PostgreSQL/Redis ms/leg | "
          "authorize p50/p99 | token p50/p99 | userinfo p50/p99 | server CPUs busy | "
          "generator CPUs | other CPUs | machine idle | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        steps = " | ".join(f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f}" for s in r["steps"].values())
        print(f"| {r['server']} | {r['legs_per_second']:.1f} | {r['failed_legs']} | "
              f"{r['server_cpu_ms_per_leg']:.2f} | {r['store_cpu_ms_per_leg']:.2f} | {steps} | "
              f"{r['server_cpus_busy']:.2f} | {r['generator_cpus_busy']:.2f} | "
              f"{r['other_cpus_busy']:.2f} | "
              f"{r['machine_idle_fraction']:.0%} | {r['load_average_at_end'][0]:.2f} |")
    for r in results:
        if r["rounds"] > 1:
            print(f"  {r['server']}: server CPU ms per leg by round: " + ", ".join(
                f"{ms:.2f}" for ms in r["server_cpu_ms_per_leg_by_round"]))
        if r["first_error"]:
            print(f"  {r['server']}: first failure: {r['first_error']}")
    print(f"Klaspoort / oidc-provider, server CPU per leg: {ratio:.2f}x "
          f"(with Klaspoort's PostgreSQL backends and redis-server: {with_stores:.2f}x)")


if __name__ == "__main__":
    main()
