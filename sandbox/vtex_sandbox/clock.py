"""Time stamps and identifiers as VTEX prints them, and the clock the sandbox's timers run on."""

from __future__ import annotations

import math
import secrets
import threading
import time
from datetime import datetime, timezone


def vtex_timestamp(moment: datetime) -> str:
    """``moment`` the way OMS prints it: UTC, 7 fractional digits, ``Z`` -- ``2024-09-25T18:03:19.7055982Z``.

    Python has microseconds (6 digits); .NET prints ticks (7 digits), so a zero is appended. Clients
    that parse dates with ``datetime.fromisoformat`` on Python < 3.11 choke on 7 digits and on ``Z`` --
    exactly the kind of mistake the sandbox is here to reveal. A naive ``moment`` is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def vtex_now() -> str:
    """Current time as a VTEX time stamp."""
    return vtex_timestamp(datetime.now(timezone.utc))


def new_receipt() -> str:
    """A 32-hex protocol code, like VTEX's ``receipt``."""
    return secrets.token_hex(16)


class SandboxClock:
    """Monotonic seconds that a test can move forward: the feed's visibility timeouts and retention
    periods are minutes or days at VTEX, and a test must see them pass without waiting.

    Only the sandbox's timers read it; the time stamps it prints (``currentChange``...) stay wall-clock
    time. The sandbox's reset leaves it where it is: only differences between its readings matter.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back: a timer that already fired cannot un-fire)."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        with self._lock:
            self._offset += float(seconds)
