"""CPU time of a process tree from /proc, so a benchmark can charge the server (and only the
server) for the work of a load test: the load generator runs in other processes and is not
counted."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(p) for p in children.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """The process and all its descendants (gunicorn's master and workers)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """(user, system) seconds used so far by these processes, including reaped children."""
    user = system = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # Fields 14-17 of proc(5): utime, stime, cutime, cstime (the list starts at field 3).
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        user += (utime + cutime) / TICKS
        system += (stime + cstime) / TICKS
    return user, system


def processes_named(prefix: str, contains: str = "") -> list[int]:
    """Processes whose command line starts with `prefix` (and has `contains`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if command.startswith(prefix) and contains in command:
            found.append(int(entry.name))
    return found


def store_pids() -> dict[str, list[int]]:
    """This machine's PostgreSQL (the postmaster and its children: a backend that exits is then
    counted through the postmaster's reaped-children time) and redis-server processes. They
    serve everything on the machine, so their CPU is this benchmark's only on a quiet one."""
    postmasters = processes_named("/usr/lib/postgresql/", " -D ")
    return {"postgresql": [p for pm in postmasters for p in tree(pm)],
            "redis": processes_named("redis-server")}


def store_cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """user + system seconds per store; call store_pids() again at the end so backends that
    started during the run are counted too."""
    return {name: sum(cpu_seconds(found)) for name, found in pids.items()}
