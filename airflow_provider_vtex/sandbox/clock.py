"""Time stamps and identifiers as VTEX prints them."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone


def vtex_now() -> str:
    """Current UTC time the way OMS prints it: ``2024-02-07T15:22:56.7612218+00:00``.

    Python has microseconds (6 digits); .NET prints ticks (7 digits), so a zero is appended. Clients
    that parse dates with ``datetime.fromisoformat`` on Python < 3.11 choke on 7 digits -- exactly the
    kind of mistake the sandbox is here to reveal.
    """
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0+00:00"


def new_receipt() -> str:
    """A 32-hex protocol code, like VTEX's ``receipt``."""
    return secrets.token_hex(16)
