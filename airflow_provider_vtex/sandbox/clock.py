"""Time stamps and identifiers as VTEX prints them."""

from __future__ import annotations

import secrets
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
