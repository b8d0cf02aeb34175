"""A client-side request rate limit shared by every thread that uses one hook.

Why: VTEX throttles per account and per route and does not publish the limits; a bulk task with many
threads must stay under a rate the merchant chooses, and when VTEX answers 429 to one thread the
others should pause too instead of adding to the storm.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RequestRateLimiter:
    """At most ``max_per_second`` request starts in any one-second window, plus shared pauses.

    A sliding window (the start times of the last ``max_per_second`` requests) rather than a token
    bucket: a bucket lets a full burst through at each window edge, up to twice the rate in one second.

    :param max_per_second: the cap; ``None`` means no cap (pauses after a 429 still apply).
    """

    #: Slack added to the window so that network jitter cannot squeeze one request too many into
    #: the server's one-second window.
    MARGIN = 0.01

    def __init__(self, max_per_second: float | None = None) -> None:
        if max_per_second is not None and max_per_second <= 0:
            raise ValueError(f"max_per_second must be > 0 or None, got {max_per_second!r}")
        self.max_per_second = max_per_second
        self._capacity = max(1, int(max_per_second)) if max_per_second else 0
        # Under 1 request/second, space them instead of counting within a window.
        self._window = 1.0 if not max_per_second or max_per_second >= 1 else 1.0 / max_per_second
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._pause_owner: int | None = None
        self._condition = threading.Condition()

    def acquire(self) -> float:
        """Block until a request may start; returns the seconds waited."""
        waited = 0.0
        with self._condition:
            while True:
                now = time.monotonic()
                # The thread that was told to wait sleeps that wait itself; the others wait here.
                paused = self._pause_owner != threading.get_ident()
                delay = self._paused_until - now if paused else 0.0
                if self._capacity and len(self._starts) >= self._capacity:
                    delay = max(delay, self._starts[0] + self._window + self.MARGIN - now)
                if delay <= 0:
                    if self._capacity:
                        if len(self._starts) >= self._capacity:
                            self._starts.popleft()
                        self._starts.append(now)
                    return waited
                self._condition.wait(delay)
                waited += time.monotonic() - now

    def hold(self, seconds: float) -> None:
        """Pause the other threads' request starts for ``seconds`` (e.g. VTEX's Retry-After after a 429).

        The calling thread is expected to sleep the same wait before its own retry.
        """
        with self._condition:
            until = time.monotonic() + seconds
            if until > self._paused_until:
                self._paused_until = until
                self._pause_owner = threading.get_ident()
