"""Counting the round trips to Redis that a piece of code makes, for the tests that hold the
throttling's cost on the sign-in path (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from redis.connection import Connection


class RoundTrips:
    count = 0


@contextmanager
def round_trips_to_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    """Within the block, how many times this process sent Redis something to answer: one per
    command, one per pipeline or script."""
    seen = RoundTrips()
    send = Connection.send_packed_command

    def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        seen.count += 1
        send(self, command, check_health)

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "send_packed_command", counted)
        yield seen
