"""Running one piece of work in several threads at the same moment, for the tests that hold a
rule under concurrency (imports of one school, throttling counters, printing cards)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(count: int, work: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """work(0) … work(count - 1), each in its own thread, released together by a barrier; the
    results in that order. An exception in any thread fails the caller; every thread closes its
    own database connection, as a request's thread would."""
    barrier = threading.Barrier(count, timeout=timeout)
    results: list[T | None] = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported below, in the test's own thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert failures == [], failures
    return results  # type: ignore[return-value]
