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
