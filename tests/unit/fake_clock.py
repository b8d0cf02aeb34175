"""A fake clock for the hook's and client's modules (the ``clock`` fixture of ``tests/unit/conftest.py``)."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A clock for the hook's modules only: ``sleep`` records the wait and moves ``monotonic``/``time`` on.

    Retry and read-back waits run to completion in microseconds and can be asserted exactly, while the
    rest of the process (threads, sockets, Airflow) keeps the real clock.
    """

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    async def sleep_async(self, seconds: float) -> None:
        """``sleep``, for a coroutine: the clock moves on, and the other coroutines get their turn."""
        self.sleep(seconds)
        await asyncio.sleep(0)

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
