"""A client-side request rate cap that holds where VTEX counts, shared by every thread and coroutine of
one hook (the sync face's threads and the async face's coroutines: :mod:`~airflow_provider_vtex.client.sending`).

Why this shape: VTEX throttles per account and does not publish its limits, so a merchant sets a cap
and expects VTEX never to see more in any second. Counting request *starts* on the client is not
enough: a request that started late in one second may arrive at VTEX together with the next second's,
and with a busy CPU the gap between "allowed" and "on the wire" varies by tens of milliseconds. So a
request here occupies one unit of the cap from the moment it may start until one window *after its
answer arrived*: VTEX received it somewhere in between, so no window at VTEX can hold more than the cap,
whatever the jitter. Starts are also paced evenly (one every ``window / capacity`` seconds) instead of
in bursts, so chunks running side by side never add up to more than their caps, even when one chunk
ends and the next begins in the same second.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

#: The longest a coroutine sleeps before looking at the cap again (it is not woken by a release).
ASYNC_RECHECK = 0.05


async def sleep_async(seconds: float) -> None:
    """A coroutine's wait for the cap (a module-level name, so tests can move a fake clock instead)."""
    await asyncio.sleep(seconds)


def _caller() -> Hashable:
    """Who is asking: the thread, and within it the asyncio task (coroutines share their thread)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop in this thread
        task = None
    return (threading.get_ident(), None if task is None else id(task))


class RequestRateLimiter:
    """At most ``max_per_second`` requests in any one-second window at the server, plus shared pauses.

    :param max_per_second: the cap; ``None`` means no cap (pauses after a 429 still apply). A cap above
        1 counts whole requests (``2.5`` allows 2 per second); below 1 it spaces requests
        ``1 / max_per_second`` seconds apart.
    """

    def __init__(self, max_per_second: float | None = None) -> None:
        if max_per_second is not None and (not math.isfinite(max_per_second) or max_per_second <= 0):
            raise ValueError(f"max_per_second must be a number > 0 or None, got {max_per_second!r}")
        self.max_per_second = max_per_second
        self.capacity = max(1, math.floor(max_per_second)) if max_per_second else 0
        #: The window a request keeps occupying after its answer: one second, or longer below 1/s.
        self.window = max(1.0, self.capacity / max_per_second) if max_per_second else 1.0
        self.interval = self.window / self.capacity if self.capacity else 0.0
        self._in_flight = 0
        self._finished: deque[float] = deque()
        self._next_start = 0.0
        self._paused_until = 0.0
        self._pause_owner: Hashable | None = None
        self._condition = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold one unit of the cap around a request; yields the seconds waited for it."""
        waited = self.acquire()
        try:
            yield waited
        finally:
            self.release()

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        if not self.capacity and self._paused_until == 0.0:
            return 0.0
        waited = 0.0
        caller = _caller()
        with self._condition:
            while True:
                now = time.monotonic()
                delay = self._take(now, caller)
                if delay <= 0:
                    return waited
                self._condition.wait(delay)
                waited += time.monotonic() - now

    async def acquire_async(self) -> float:
        """As :meth:`acquire`, for a coroutine: it sleeps without blocking the event loop (the lock is
        held only to read and update the counts). Returns the seconds waited."""
        if not self.capacity and self._paused_until == 0.0:
            return 0.0
        waited = 0.0
        caller = _caller()
        while True:
            now = time.monotonic()
            with self._condition:
                delay = self._take(now, caller)
            if delay <= 0:
                return waited
            await sleep_async(min(delay, ASYNC_RECHECK))
            waited += time.monotonic() - now

    def _take(self, now: float, caller: Hashable) -> float:
        """Take a unit if a request may start now (0); else the seconds to wait. Under the lock."""
        delay = self._delay(now, caller)
        if delay <= 0 and self.capacity:
            self._in_flight += 1
            self._next_start = max(now, self._next_start) + self.interval
        return delay

    def release(self) -> None:
        """The request's answer arrived (or it failed): it keeps its unit for one more window."""
        if not self.capacity:
            return
        with self._condition:
            self._in_flight -= 1
            self._finished.append(time.monotonic())
            self._condition.notify_all()

    def _delay(self, now: float, caller: Hashable) -> float:
        if self._paused_until and self._paused_until <= now:
            self._paused_until, self._pause_owner = 0.0, None
        # The caller that was told to wait sleeps that wait itself; the others wait here.
        delay = self._paused_until - now if self._pause_owner != caller else 0.0
        if not self.capacity:
            return delay
        while self._finished and self._finished[0] + self.window <= now:
            self._finished.popleft()
        if self._in_flight + len(self._finished) >= self.capacity:
            if not self._finished:
                return max(delay, self.window)  # all units in flight: woken by release()
            delay = max(delay, self._finished[0] + self.window - now)
        return max(delay, self._next_start - now)

    def hold(self, seconds: float) -> None:
        """Pause the other threads' and coroutines' requests for ``seconds`` (e.g. VTEX's Retry-After
        after a 429).

        The calling thread (or coroutine) is expected to sleep the same wait before its own retry.
        """
        caller = _caller()
        with self._condition:
            until = time.monotonic() + seconds
            if until > self._paused_until:
                self._paused_until = until
                self._pause_owner = caller
