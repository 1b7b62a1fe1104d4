"""Work spread over forked processes, each with its own database connection: the nightly run's
imports (roster) and the feed's comparisons after them (exchange). A project-level module: it
imports no app."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.db import connections

Item = TypeVar("Item")
Result = TypeVar("Result")


def in_processes(func: Callable[[Item], Result], items: Iterable[Item], workers: int
                 ) -> Iterator[Result]:
    """Each item handed to `func` in one of `workers` forked processes, results as they come.
    The parent's connections are closed first: a forked process must open its own, not share
    the parent's socket. `func` must be a module-level function (it is pickled by name)."""
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap_unordered(func, items)
