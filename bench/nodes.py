"""Three Klaspoort nodes behind haproxy, and a long hold at 80 % of capacity (issue 17, 2 and 3).

    .venv/bin/python bench/nodes.py [--minutes 10] [--workers 2] [--capacity-users 16]
                                    [--hold-users 32] [--kill] [--drain] [--l7-retries]
                                    [--checks-only] [--per-node-signing-key]

1. haproxy (Debian's package) on 127.0.0.1:8300, round-robin over three gunicorn nodes on 8301,
   8302 and 8303 (each its own master with --workers sync workers), no stickiness, a health check
   every second (a node is out after 2 failed checks, or at once when a request finds it
   refusing connections), at most --workers requests at a node at
   once so the rest wait in haproxy's queue (where a stopped node's share can go elsewhere), and
   an X-Served-By header set by haproxy itself naming the node. The nodes share one PostgreSQL
   database (bench/pupil_flow_data.py's school) and one Redis (BENCH_CACHE_URL, sessions and
   throttling) and get the same keys through the environment, each with its own
   KLASPOORT_VAR_DIR, so nothing can be shared through a local file.
2. Checks, before any load, that stop the run if they fail: (a) one pupil flow whose nine
   requests go to the three nodes in turn (session, CSRF, authorization code and access token
   across nodes), its ID token verified with each node's JWKS and its userinfo `sub` the same
   on every node; one flow through haproxy lands on all three nodes; (b) wrong pincodes for one
   pupil sent to the nodes in turn are answered exactly as the same sequence sent to one node
   (refused from the same attempt on), and the same for a wrong staff password.
3. Capacity: --capacity-users pupils through haproxy without pause for 30 s (after 10 s of
   warm-up): completed flows per second.
4. The hold: --minutes at 80 % of that rate (locust's constant_throughput per user), with every
   10 s the RSS of each gunicorn master and worker, haproxy, Redis, PostgreSQL's backends of the
   bench database and locust; halfway, at a moment node 2 has a request in hand, its master gets
   SIGTERM (graceful: it stops accepting and lets its workers finish their request; --kill:
   SIGKILL to master and workers, a crashed machine; --drain: haproxy drains it first, a planned
   stop; --l7-retries: haproxy sends a request a node closed without answering to another).
   Memory growth per process from the end of warm-up to the end, flows and p99 per minute, and
   the failures around the stop against what the node had in flight.

Results: a table on stdout and bench/out/nodes.json; docs/benchmarks.md section 8.3.
"""

from __future__ import annotations

import argparse
import base64
import csv
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.flow_steps import run_flow
from bench.procstat import tree
from bench.pupil_flow import BIN, OUT, ROOT, fresh_database, load_bench_data, locust, wait_until_up

DB_NAME = "klaspoort_nodes_bench"
FRONT = 8300
NODES = {"node1": 8301, "node2": 8302, "node3": 8303}
WORK = OUT / "nodes"
SAMPLE_SECONDS = 10
STOPPED = "node2"


def fail(message: str) -> None:
    raise SystemExit(f"CHECK FAILED: {message}")


# --- set-up ------------------------------------------------------------------------------------
def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists()
                                        else None)
    if not found:
        raise SystemExit("haproxy is missing; install Debian's package:\n"
                         "    sudo apt-get install -y haproxy")
    return found


def haproxy_config(workers: int, l7_retries: bool) -> str:
    servers = "\n".join(f"    server {name} 127.0.0.1:{port} check maxconn {workers}"
                        for name, port in NODES.items())
    return f"""# Written by bench/nodes.py; started in the foreground with haproxy -db -f this file.
global
    maxconn 2000
    stats socket {WORK / "haproxy.sock"} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue 30s
    timeout check 2s
    # A connection a node refuses is tried again at once on another node.
    retries 3
    option redispatch 1{RETRY_ON if l7_retries else ""}
    # Only requests that ended abnormally are logged (termination state, server, timings).
    log stdout format raw local0
    option httplog
    option dontlog-normal

frontend klaspoort
    bind 127.0.0.1:{FRONT}
    default_backend nodes

backend nodes
    # Round-robin, no cookie and no source hashing: consecutive requests of one flow land on
    # different nodes. A node is taken out after 2 failed checks a second apart, and at once
    # when a real request finds it refusing connections: otherwise, in the second before the
    # checks notice, every request waiting in haproxy's queue is sent to the stopped node
    # (its places are free), refused there and answered 503 (seen in a run without it).
    balance roundrobin
    option httpchk
    http-check send meth GET uri /accounts/inloggen/ ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
    # Which node answered, set by haproxy (the product does not name its node).
    http-response set-header X-Served-By %s
{servers}
"""


RETRY_ON = """
    # --l7-retries: also try again on another node when a node closes a connection without
    # answering (a stopping node's backlog). The request may then run twice (a worker killed
    # while it ran); for the token call the second run is refused, like a lost answer.
    retry-on conn-failure empty-response"""


def node_env(args: argparse.Namespace, database_url: str) -> dict[str, str]:
    """What every node must share: SECRET_KEY (sessions, CSRF, signed login hints), the pupils'
    secrets key, the pseudonym key (`sub`), the OIDC signing key, the site URL (the issuer), the
    database and the cache. Generated for this run, never stored in the repository."""
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    env = {**os.environ, "DATABASE_URL": database_url, "KLASPOORT_DEBUG": "0",
           "KLASPOORT_SECRET_KEY": secrets.token_urlsafe(50),
           "KLASPOORT_SECRETS_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
           "KLASPOORT_PSEUDONYM_KEY": secrets.token_urlsafe(32),
           "KLASPOORT_OIDC_PRIVATE_KEY": pem,
           "KLASPOORT_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "KLASPOORT_SITE_URL": f"http://127.0.0.1:{FRONT}",
           "KLASPOORT_VAR_DIR": str(WORK / "var-setup"), "KLASPOORT_LOG_LEVEL": "WARNING",
           "KLASPOORT_CACHE_URL": args.cache_url,
           "BENCH_OUT": str(WORK / "data.json"), "BENCH_DATA": str(WORK / "data.json")}
    if args.per_node_signing_key:
        # The hazard this flag shows: each node makes its own key under its own VAR_DIR.
        del env["KLASPOORT_OIDC_PRIVATE_KEY"]
    env.pop("BENCH_FLOWS_PER_USER_PER_S", None)
    env.pop("BENCH_REQUEST_LOG", None)
    return env


def start_node(name: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen:
    var = WORK / f"var-{name}"
    var.mkdir(parents=True, exist_ok=True)
    log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 - the node's lifetime
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "klaspoort.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--worker-class", "sync", "--log-level", "warning", "--graceful-timeout", "30"],
        env={**env, "KLASPOORT_VAR_DIR": str(var)}, cwd=ROOT, stdout=log, stderr=log,
        start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def haproxy_command(command: str) -> str:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(WORK / "haproxy.sock"))
        sock.sendall(command.encode() + b"\n")
        text = b""
        while chunk := sock.recv(65536):
            text += chunk
    return text.decode()


def haproxy_stats() -> dict[str, dict[str, str]]:
    """haproxy's counters per server (show stat on the admin socket)."""
    lines = haproxy_command("show stat").lstrip("# ").splitlines()
    return {row["svname"]: row for row in csv.DictReader(lines) if row.get("pxname") == "nodes"}


# --- checks ------------------------------------------------------------------------------------
class NodeClient:
    """A requests session whose every request goes to the next node in turn (cookies are per
    host, not per port, so the browser's cookies travel with it), noting who answered."""

    def __init__(self, ports: list[int]) -> None:
        self.session = requests.Session()
        self.ports = itertools.cycle(ports)
        self.log: list[tuple[str, int, int, str]] = []

    @property
    def cookies(self) -> Any:
        return self.session.cookies

    def request(self, method: str, path: str, name: str = "", **kwargs: Any) -> Any:
        port = next(self.ports)
        response = self.session.request(method, f"http://127.0.0.1:{port}{path}", timeout=30,
                                        **kwargs)
        self.log.append((name or path, port, response.status_code,
                         response.headers.get("X-Served-By", "")))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)


def check_flow_across_nodes(data: dict[str, Any]) -> dict[str, Any]:
    """(a) The nine requests on three nodes in turn; the ID token and `sub` agree everywhere."""
    from jwcrypto import jwk, jwt

    ports = list(NODES.values())
    client = NodeClient(ports)
    try:
        tokens = run_flow(client, data, data["pupils"][2])
    except AssertionError as exc:
        fail(f"a flow across nodes broke: {exc}; requests so far {client.log}")
    used = {port for _, port, _, _ in client.log}
    if used != set(ports):
        fail(f"the flow did not use every node: {client.log}")
    subs, verified = set(), []
    for port in ports:
        keys = requests.get(f"http://127.0.0.1:{port}/o/.well-known/jwks.json", timeout=10)
        try:
            claims = json.loads(jwt.JWT(jwt=tokens["id_token"],
                                        key=jwk.JWKSet.from_json(keys.text)).claims)
        except Exception as exc:  # any verification error is the finding
            fail(f"the ID token does not verify with node {port}'s JWKS: {exc}")
        verified.append(port)
        info = requests.get(f"http://127.0.0.1:{port}/o/userinfo/", timeout=10, headers={
            "Authorization": f"Bearer {tokens['access_token']}"})
        if info.status_code != 200:
            fail(f"the access token is refused by node {port}: HTTP {info.status_code}")
        subs.add(info.json()["sub"])
        subs.add(claims["sub"])
    if len(subs) != 1:
        fail(f"the pupil's pseudonym differs between nodes: {subs}")
    # The same flow through haproxy: consecutive requests go to different nodes.
    front = NodeClient([FRONT])
    run_flow(front, data, data["pupils"][3])
    served = [who for _, _, _, who in front.log]
    if set(served) != set(NODES):
        fail(f"through haproxy the flow did not reach all nodes: {served}")
    return {"steps": [{"step": step, "port": port, "status": status}
                      for step, port, status, _ in client.log],
            "id_token_verified_with_jwks_of": verified, "sub_same_on_all_nodes": True,
            "through_haproxy_served_by": served}


def wrong_pincodes(data: dict[str, Any], pupil: dict[str, Any], ports: list[int],
                   attempts: int) -> list[int]:
    client = NodeClient(ports)
    url = f"/leerling/{data['ref']}/groep/{pupil['group']}/{pupil['pupil']}/"
    client.get(url)
    digits = "".join(ch for ch in pupil["code"] if ch.isdigit())  # stored as "pincode:12345"
    wrong = str((int(digits) + 1) % 10 ** len(digits)).zfill(len(digits))
    return [client.post(url, allow_redirects=False, data={
        "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""), "code": wrong,
        "key": "ok"}).status_code for _ in range(attempts)]


def wrong_passwords(email: str, ports: list[int], attempts: int) -> list[int]:
    client = NodeClient(ports)
    client.get("/accounts/inloggen/")
    return [client.post("/accounts/inloggen/", allow_redirects=False, data={
        "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""), "username": email,
        "password": "Wrong-password-1"}).status_code for _ in range(attempts)]


def check_throttling(data: dict[str, Any]) -> dict[str, Any]:
    """(b) The counters are shared: nodes in turn refuse from the same attempt as one node."""
    from klaspoort.accounts.throttling import ACCOUNT_LIMIT
    from klaspoort.signin.throttling import PUPIL_STEP

    ports = list(NODES.values())
    one = wrong_pincodes(data, data["pupils"][0], ports[:1], PUPIL_STEP + 2)
    turns = wrong_pincodes(data, data["pupils"][1], ports, PUPIL_STEP + 2)
    if 429 not in one or one != turns:
        fail(f"pincode throttling: one node {one}, nodes in turn {turns}")
    staff_one = wrong_passwords("nobody-1@bench.invalid", ports[:1], ACCOUNT_LIMIT + 2)
    staff_turns = wrong_passwords("nobody-2@bench.invalid", ports, ACCOUNT_LIMIT + 2)
    if 429 not in staff_one or staff_one != staff_turns:
        fail(f"staff throttling: one node {staff_one}, nodes in turn {staff_turns}")
    return {"pupil_step": PUPIL_STEP, "pincode_one_node": one, "pincode_nodes_in_turn": turns,
            "staff_account_limit": ACCOUNT_LIMIT, "password_one_node": staff_one,
            "password_nodes_in_turn": staff_turns}


# --- measuring ---------------------------------------------------------------------------------
def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def processes(nodes: dict[str, subprocess.Popen], haproxy: subprocess.Popen) -> dict[str, int]:
    """The processes whose memory is followed, by a stable label."""
    found = {}
    for name, node in nodes.items():
        pids = tree(node.pid)
        found[f"{name} master"] = node.pid
        for number, pid in enumerate(sorted(pids[1:]), 1):
            found[f"{name} worker {number}"] = pid
    found["haproxy"] = haproxy.pid
    for pid in tree(os.getpid()):
        if "locustfile" in _cmdline(pid):
            found["locust"] = pid
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "redis-server":
                found["redis-server"] = int(entry.name)
        except OSError:
            continue
    return found


def postgres_backends() -> list[int]:
    """PostgreSQL's server processes for the bench database (they come and go with
    KLASPOORT_DB_CONN_MAX_AGE, so they are followed as a sum)."""
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
            and _cmdline(int(e.name)).startswith("postgres: ")
            and f" klaspoort_ci {DB_NAME} " in _cmdline(int(e.name))]


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: RSS per process and haproxy's counters; at `stop_at`, the node."""

    def __init__(self, nodes: dict[str, subprocess.Popen], haproxy: subprocess.Popen,
                 stop_at: float, kill: bool, cache: Any, drain: bool = False) -> None:
        super().__init__(daemon=True)
        self.nodes, self.haproxy, self.stop_at, self.kill = nodes, haproxy, stop_at, kill
        self.samples: list[dict[str, Any]] = []
        self.stop_event: dict[str, Any] = {}
        self.cache, self.drain = cache, drain
        self.done = threading.Event()
        self.started = time.time()

    def sample(self) -> None:
        known = processes(self.nodes, self.haproxy) if not self.samples else self.known
        if not self.samples:
            self.known = known
        # A stopped node's processes are gone; anything else missing shows as None.
        rss = {label: rss_kb(pid) for label, pid in known.items()}
        rss["locust"] = rss_kb(processes(self.nodes, self.haproxy).get("locust", 0) or 0)
        backends = postgres_backends()
        rss["postgres backends (sum)"] = sum(rss_kb(pid) or 0 for pid in backends)
        stats = haproxy_stats()
        self.samples.append({
            "t": round(time.time() - self.started, 1), "rss_kb": rss,
            "postgres_backends": len(backends), "redis_keys": self.cache.dbsize(),
            "haproxy": {name: {k: stats[name][k] for k in ("status", "scur", "qcur", "stot")}
                        for name in NODES if name in stats}})

    def stop_node(self) -> None:
        node = self.nodes[STOPPED]
        drained = None
        if self.drain:  # a planned stop: haproxy sends it nothing new, then it is stopped
            began = time.time()
            haproxy_command(f"set server nodes/{STOPPED} state drain")
            while int(haproxy_stats()[STOPPED]["scur"]) and time.time() < began + 30:
                time.sleep(0.05)
            drained = round(time.time() - began, 2)
        else:  # unannounced: wait (at most 5 s) for a moment it has a request in hand
            until = time.time() + 5
            while not int(haproxy_stats()[STOPPED]["scur"]) and time.time() < until:
                time.sleep(0.01)
        before = haproxy_stats()[STOPPED]
        at = time.time()
        if self.kill:  # a crashed machine: master and workers at once
            os.killpg(node.pid, signal.SIGKILL)
        else:  # graceful: gunicorn stops accepting, its workers finish the request they have
            os.kill(node.pid, signal.SIGTERM)
        node.wait(timeout=60)
        gone = time.time()
        time.sleep(3)
        after = haproxy_stats()[STOPPED]
        self.stop_event = {
            "node": STOPPED, "signal": "SIGKILL" if self.kill else "SIGTERM",
            "drained_first_s": drained,
            "t": round(at - self.started, 1), "master_exited_after_s": round(gone - at, 2),
            "in_flight_at_stop": int(before["scur"]), "queued_at_stop": int(before["qcur"]),
            "haproxy_before": {k: before[k] for k in ("status", "stot", "eresp", "econ",
                                                      "wretr", "wredis")},
            "haproxy_3s_after_exit": {k: after[k] for k in ("status", "stot", "eresp", "econ",
                                                            "wretr", "wredis")}}

    def run(self) -> None:
        next_sample = time.time()
        while not self.done.is_set():
            if not self.stop_event and time.time() >= self.started + self.stop_at:
                self.stop_node()
            if time.time() >= next_sample:
                self.sample()
                next_sample += SAMPLE_SECONDS
            self.done.wait(0.2)


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def read_log(path: Path, started: float) -> list[tuple[float, str, float, bool, str, str]]:
    rows = []
    for line in path.read_text().splitlines():
        at, name, ms, ok, served, error = [*line.split("\t"), ""][:6]
        rows.append((float(at) - started, name, float(ms), ok == "1", served, error))
    return rows


def flow_rate(prefix: Path, seconds: int) -> tuple[float, int, int]:
    rows = {r["Name"]: r for r in csv.DictReader(open(f"{prefix}_stats.csv"))}  # noqa: SIM115
    flow = rows["complete flow"]
    failed = int(flow["Failure Count"])
    done = int(flow["Request Count"]) - failed
    return done / seconds, done, failed


# --- the run -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="sync workers per node")
    parser.add_argument("--capacity-users", type=int, default=16)
    parser.add_argument("--capacity-seconds", type=int, default=30)
    parser.add_argument("--hold-users", type=int, default=32)
    parser.add_argument("--load", type=float, default=0.8, help="share of the capacity to hold")
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="memory baseline after this (default: 1, a quarter of a short run)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL node 2 instead of SIGTERM")
    parser.add_argument("--drain", action="store_true",
                        help="set node 2 to drain in haproxy and wait for it to be idle first")
    parser.add_argument("--checks-only", action="store_true")
    parser.add_argument("--l7-retries", action="store_true",
                        help="haproxy retries a request a node closed without answering")
    parser.add_argument("--per-node-signing-key", action="store_true",
                        help="leave KLASPOORT_OIDC_PRIVATE_KEY unset (shows the hazard)")
    parser.add_argument("--cache-url", default=os.environ.get(
        "BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"))
    args = parser.parse_args()
    binary = haproxy_binary()
    import redis

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    cache = redis.Redis.from_url(args.cache_url)
    cache.flushdb()
    admin = os.environ.get("BENCH_ADMIN_URL",
                           "postgres://klaspoort_ci:klaspoort_ci@localhost:5432/postgres")
    env = node_env(args, fresh_database(admin, DB_NAME))
    load_bench_data(env, WORK / "setup.log")
    data = json.loads((WORK / "data.json").read_text())
    (WORK / "haproxy.cfg").write_text(haproxy_config(args.workers, args.l7_retries))
    nodes = {name: start_node(name, port, env, args.workers) for name, port in NODES.items()}
    hap_log = open(WORK / "haproxy.log", "w")  # noqa: SIM115 - haproxy's lifetime
    haproxy = subprocess.Popen([binary, "-db", "-f", str(WORK / "haproxy.cfg")],
                               stdout=hap_log, stderr=hap_log, start_new_session=True)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "workers_per_node": args.workers, "nodes": list(NODES), "front": FRONT,
        "haproxy": subprocess.run([binary, "-v"], capture_output=True, text=True,
                                  check=True).stdout.splitlines()[0],
        "command": " ".join(["bench/nodes.py", *sys.argv[1:]])}
    try:
        for port in [*NODES.values(), FRONT]:
            wait_until_up(f"http://127.0.0.1:{port}/accounts/inloggen/")
        time.sleep(3)  # haproxy's checks mark the nodes up (rise 2, every second)
        # The checks read the limits from Klaspoort's own modules, with the nodes' settings.
        os.environ.update({k: v for k, v in env.items() if k.startswith(("KLASPOORT_",
                                                                           "DATABASE_URL"))})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klaspoort.settings")
        import django

        django.setup()
        result["check_flow"] = check_flow_across_nodes(data)
        print("check (a) passed: a flow across nodes; haproxy spread it over",
              result["check_flow"]["through_haproxy_served_by"])
        result["check_throttling"] = check_throttling(data)
        print("check (b) passed: throttling across nodes", result["check_throttling"])
        cache.flushdb()  # the checks' waiting pupils must not fail flows of the load
        if args.checks_only:
            return
        capacity(args, env, result)
        hold(args, env, nodes, haproxy, cache, result)
    finally:
        for process in [haproxy, *nodes.values()]:
            stop(process)
        (WORK.parent / "nodes.json").write_text(json.dumps(result, indent=1))
    report(result)


def capacity(args: argparse.Namespace, env: dict[str, str], result: dict[str, Any]) -> None:
    tolerant = ("--exit-code-on-error", "0")  # failures are counted, not fatal
    locust(env, args.capacity_users, 10, WORK / "capacity-warmup", port=FRONT, extra=tolerant)
    locust(env, args.capacity_users, args.capacity_seconds, WORK / "capacity", port=FRONT,
           extra=tolerant)
    rate, done, failed = flow_rate(WORK / "capacity", args.capacity_seconds)
    result["capacity"] = {"users": args.capacity_users, "seconds": args.capacity_seconds,
                          "flows": done, "failed": failed, "flows_per_second": round(rate, 2)}
    print(f"capacity: {rate:.1f} flows/s ({done} flows, {failed} failed, "
          f"{args.capacity_users} pupils without pause for {args.capacity_seconds} s)")


def hold(args: argparse.Namespace, env: dict[str, str], nodes: dict[str, subprocess.Popen],
         haproxy: subprocess.Popen, cache: Any, result: dict[str, Any]) -> None:
    seconds = int(args.minutes * 60)
    warmup = (args.warmup_minutes * 60 if args.warmup_minutes is not None
              else min(60, seconds / 4))
    target = args.load * result["capacity"]["flows_per_second"]
    log = WORK / "requests.log"
    paced = {**env, "BENCH_FLOWS_PER_USER_PER_S": str(target / args.hold_users),
             "BENCH_REQUEST_LOG": str(log)}
    sampler = Sampler(nodes, haproxy, stop_at=seconds / 2, kill=args.kill, cache=cache,
                      drain=args.drain)
    print(f"hold: {seconds} s at {target:.1f} flows/s ({args.hold_users} pupils paced); "
          f"{STOPPED} stopped at {seconds / 2:.0f} s")
    sampler.start()
    try:
        # Users start 1/target s apart, so their paced flows stay spread over the period
        # instead of all starting together (bursts of --hold-users flows at once).
        locust(paced, args.hold_users, seconds, WORK / "hold", port=FRONT,
               extra=("--exit-code-on-error", "0"), spawn_rate=target)
    finally:
        sampler.done.set()
        sampler.join()
    result["hold"] = analyse(read_log(log, sampler.started), sampler, seconds, warmup, target,
                             args)
    # haproxy's own account of the requests that ended abnormally, with the node and the
    # termination state (e.g. SH: the node closed the connection before its headers).
    abnormal = [line for line in (WORK / "haproxy.log").read_text().splitlines()
                if " klaspoort nodes/" in line]
    result["hold"]["haproxy_abnormal"] = {
        "count": len(abnormal),
        "by_node": {name: sum(f"nodes/{name} " in line for line in abnormal) for name in NODES},
        "lines": abnormal[:20]}


def analyse(rows: list[tuple[float, str, float, bool, str, str]], sampler: Sampler,
            seconds: int, warmup: float, target: float,
            args: argparse.Namespace) -> dict[str, Any]:
    flows = [r for r in rows if r[1] == "complete flow"]
    requests_ = [r for r in rows if r[1] != "complete flow"]
    minutes = []
    for minute in range(math.ceil(seconds / 60)):
        inside = [r for r in flows if minute * 60 <= r[0] < (minute + 1) * 60]
        reqs = [r for r in requests_ if minute * 60 <= r[0] < (minute + 1) * 60]
        span = min(60, seconds - minute * 60)
        minutes.append({
            "minute": minute + 1, "flows": sum(r[3] for r in inside),
            "failed_flows": sum(not r[3] for r in inside),
            "flows_per_second": round(sum(r[3] for r in inside) / span, 2),
            "flow_p99_ms": round(p99([r[2] for r in inside if r[3]])),
            "request_p99_ms": round(p99([r[2] for r in reqs if r[3]])),
            "served_by": {name: sum(r[4] == name for r in reqs) for name in NODES}})
    windows = []
    for start in range(0, seconds, SAMPLE_SECONDS):
        inside = [r for r in flows if start <= r[0] < start + SAMPLE_SECONDS]
        windows.append({"t": start, "flows": sum(r[3] for r in inside),
                        "failed": sum(not r[3] for r in inside)})
    stop = sampler.stop_event
    failures = [{"t": round(r[0], 2), "step": r[1], "ms": r[2], "served_by": r[4],
                 "error": r[5]} for r in requests_ if not r[3]]
    near = [f for f in failures if stop and stop["t"] - 1 <= f["t"] <= stop["t"] + 35]
    # Memory: every process at the first sample after warm-up against the last sample.
    base = next(s for s in sampler.samples if s["t"] >= warmup)
    last = sampler.samples[-1]
    memory = {}
    for label, start_kb in base["rss_kb"].items():
        end_kb = last["rss_kb"].get(label)
        if start_kb and end_kb:
            memory[label] = {"warm_kb": start_kb, "end_kb": end_kb,
                             "growth_pct": round((end_kb - start_kb) / start_kb * 100, 1)}
        else:
            memory[label] = {"warm_kb": start_kb, "end_kb": end_kb, "growth_pct": None}
    # The maximum is over Klaspoort's processes and haproxy. Redis and PostgreSQL hold data
    # that grows with the flows (a session per flow, kept for the session's lifetime; rows),
    # and locust is the load generator: shown, with Redis's keys, but not in the maximum.
    grown = [m["growth_pct"] for label, m in memory.items() if m["growth_pct"] is not None
             and not label.startswith(("postgres", "redis", "locust"))]
    return {
        "seconds": seconds, "warmup_s": warmup, "target_flows_per_second": round(target, 2),
        "users": args.hold_users, "completed_flows": sum(r[3] for r in flows),
        "failed_flows": sum(not r[3] for r in flows),
        "flows_per_second": round(sum(r[3] for r in flows) / seconds, 2),
        "failed_requests": len(failures), "failed_requests_near_stop": len(near),
        "failed_requests_elsewhere": len(failures) - len(near), "stop": stop,
        "served_after_stop": {name: sum(r[4] == name for r in requests_
                                        if stop and r[0] > stop["t"] + 5) for name in NODES},
        "failures": failures[:50], "per_minute": minutes, "per_10s": windows,
        "memory": memory, "max_growth_pct": max(grown) if grown else None,
        "memory_from_to_s": [base["t"], last["t"]],
        "redis_keys": {"warm": base["redis_keys"], "end": last["redis_keys"]},
        "memory_samples": sampler.samples}


def report(result: dict[str, Any]) -> None:
    hold = result.get("hold")
    if not hold:
        return
    stop = hold["stop"]
    print(f"\n{result['command']}  ({result['date']}, {result['cpus']} CPUs, "
          f"3 nodes x {result['workers_per_node']} sync workers, {result['haproxy']})")
    print(f"capacity {result['capacity']['flows_per_second']} flows/s; hold "
          f"{hold['seconds']} s at target {hold['target_flows_per_second']} flows/s: "
          f"{hold['completed_flows']} flows ({hold['flows_per_second']}/s), "
          f"{hold['failed_flows']} failed")
    drained = f" after draining for {stop['drained_first_s']} s" if stop["drained_first_s"] \
        is not None else ""
    print(f"{stop['node']} {stop['signal']}{drained} at {stop['t']} s, master gone after "
          f"{stop['master_exited_after_s']} s; in flight {stop['in_flight_at_stop']}, queued "
          f"{stop['queued_at_stop']}; failed requests near the stop "
          f"{hold['failed_requests_near_stop']}, elsewhere {hold['failed_requests_elsewhere']}"
          f"; served after the stop "
          f"{hold['served_after_stop']}")
    print("| minute | flows/s | failed flows | flow p99 ms | request p99 ms | node1/node2/node3 |")
    print("|---|---|---|---|---|---|")
    for m in hold["per_minute"]:
        print(f"| {m['minute']} | {m['flows_per_second']} | {m['failed_flows']} | "
              f"{m['flow_p99_ms']} | {m['request_p99_ms']} | "
              f"{'/'.join(str(v) for v in m['served_by'].values())} |")
    print(f"| process | RSS after warm-up ({hold['warmup_s']:.0f} s) MB | at the end MB | "
          "growth |")
    print("|---|---|---|---|")
    for label, m in hold["memory"].items():
        growth = f"{m['growth_pct']:+.1f} %" if m["growth_pct"] is not None else "stopped"
        end = f"{m['end_kb'] / 1024:.1f}" if m["end_kb"] else "-"
        print(f"| {label} | {(m['warm_kb'] or 0) / 1024:.1f} | {end} | {growth} |")
    print(f"max growth of a gunicorn or haproxy process: {hold['max_growth_pct']} % "
          f"(samples at "
          f"{hold['memory_from_to_s'][0]} s and {hold['memory_from_to_s'][1]} s); Redis keys "
          f"{hold['redis_keys']['warm']} -> {hold['redis_keys']['end']} (sessions kept)")
    print(f"haproxy's abnormal requests by node: {hold['haproxy_abnormal']['by_node']}")
    for line in hold["haproxy_abnormal"]["lines"][:5]:
        print("   ", line)


if __name__ == "__main__":
    main()
