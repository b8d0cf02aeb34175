"""Checks shared by every route's contract: JSON types and dates as VTEX means them.

Dates are parsed as WHOLE strings: ``"2026-11-20garbage"`` is not a date with something after it, it
is not a date. Each parser returns the value in VTEX's time-stamp format, because VTEX normalises the
dates a client sends before it shows them in GET order.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeGuard

from vtex_sandbox.clock import vtex_timestamp
from vtex_sandbox.errors import bad_request

if TYPE_CHECKING:
    from collections.abc import Iterable

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})?"
)
_DATE_SPACE_MINUTES = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})")


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (``true``/``false`` are not numbers, whatever Python thinks)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: object) -> bool:
    """A string with something in it besides blanks."""
    return isinstance(value, str) and value.strip() != ""


def _real(numbers: list[int], offset: timezone = timezone.utc, fraction: str = "") -> datetime | None:
    """The datetime of ``[year, month, day, hour, minute, second]`` (time parts optional), or ``None``
    when they name no real day or time (2026-02-30, 25:00)."""
    year, month, day, hour, minute, second = [*numbers, 0, 0, 0][:6]
    micro = int((fraction + "000000")[:6]) if fraction else 0
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=offset)
    except ValueError:
        return None


def parse_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` (a real day) as a VTEX time stamp at midnight UTC, else ``None``."""
    if not isinstance(value, str):
        return None
    found = _DATE.fullmatch(value)
    if found is None:
        return None
    moment = _real([int(g) for g in found.groups()])
    return vtex_timestamp(moment) if moment else None


def parse_date_time(value: Any) -> str | None:
    """ISO 8601 date AND time (``2024-01-31T18:25:43-05:00``; seconds, fraction and offset optional;
    no offset means UTC) as a VTEX time stamp, else ``None``."""
    if not isinstance(value, str):
        return None
    found = _DATE_TIME.fullmatch(value)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    offset = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
    numbers = [int(year), int(month), int(day), int(hour), int(minute), int(second or 0)]
    moment = _real(numbers, offset, fraction or "")
    return vtex_timestamp(moment) if moment else None


def parse_date_space_minutes(value: Any) -> str | None:
    """``yyyy-mm-dd hh:mm`` (VTEX's ``deliveredDate``; a real day and time) as a VTEX time stamp."""
    if not isinstance(value, str):
        return None
    found = _DATE_SPACE_MINUTES.fullmatch(value)
    if found is None:
        return None
    moment = _real([int(g) for g in found.groups()])
    return vtex_timestamp(moment) if moment else None


def require_object(body: Any, what: str = "The request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"{what} must be a JSON object")
    return body


def optional_text(body: dict[str, Any], key: str, where: str = "", *, nullable: bool = True) -> str | None:
    """An optional string field: absent -> ``None``; ``null`` only where the contract allows it."""
    if key not in body or (body[key] is None and nullable):
        return None
    value = body[key]
    if not isinstance(value, str):
        kind = "a string or null" if nullable else "a string (null is not allowed here)"
        raise bad_request(f"{where}{key} must be {kind}")
    return value


def optional_int(body: dict[str, Any], key: str, where: str = "", *, minimum: int = 0) -> int | None:
    """An optional integer field (absent or null -> ``None``)."""
    value = body.get(key)
    if value is None:
        return None
    if not is_int(value) or value < minimum:
        raise bad_request(f"{where}{key} must be an integer >= {minimum} (cents, no decimal separator)")
    return value


def refuse_foreign_fields(body: dict[str, Any], foreign: dict[str, str], where: str, this_route: str) -> None:
    """A field of the other route set means the client built its body for the wrong route: say which."""
    for key, home in foreign.items():
        if key in body:
            raise bad_request(
                f"{where}{key} is not a field of {this_route}; it belongs to {home}. "
                "Build the body for the route you call (the two route sets differ)."
            )


def validate_cancel(body: Any) -> str | None:
    """Cancel (both route sets document the same body): an optional ``{"reason": string}``."""
    if body is None:
        return None
    return optional_text(canonical_keys(require_object(body), ("reason",)), "reason", nullable=False)


def validate_interaction(body: Any) -> tuple[str, str]:
    """AddLog (``POST .../interactions``): ``{"source": string, "message": string}``, both required."""
    body = canonical_keys(require_object(body), ("source", "message"))
    values = []
    for key, example in (("source", "the system writing, e.g. 'ERP'"), ("message", "the line to log")):
        value = body.get(key)
        if not isinstance(value, str) or not is_text(value):
            raise bad_request(f"{key} is required: a non-empty string ({example})")
        values.append(value)
    return values[0], values[1]


def canonical_keys(body: dict[str, Any], fields: Iterable[str], where: str = "") -> dict[str, Any]:
    """``body`` with each key that names one of ``fields`` in another letter case renamed to the field's
    own spelling (``messageRetentionPeriodInSeconds`` -> ``MessageRetentionPeriodInSeconds``); other keys
    are kept as they are, for the route's own checks.

    Why: VTEX's services are .NET (their error bodies carry .NET exception names), and .NET's usual JSON
    readers match property names without regard to case: Json.NET always does, and ASP.NET Core's
    System.Text.Json does with its web defaults. A client that spells a field in another case is therefore
    understood by VTEX, and production clients rely on it (vtexpy 0.0.0b47 configures the feed with
    ``queue.messageRetentionPeriodInSeconds``). Values stay case-sensitive (``"Output"``, statuses): the
    readers fold property names, not enumeration values. Two keys that fold to one field are refused, since
    which one VTEX keeps is not documented and the client surely meant one.
    """
    by_folded = {name.casefold(): name for name in fields}
    canonical: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in body.items():
        name = by_folded.get(key.casefold(), key)
        if name in seen:
            raise bad_request(
                f"{where}{key} and {where}{seen[name]} name the same field {name!r} (property names are "
                "matched without regard to case): send it once"
            )
        seen[name] = key
        canonical[name] = value
    return canonical


#: VTEX's list route reads at most 30 pages (of at most 100 orders): about 3,000 orders per query.
MAX_LIST_PAGE = 30
_CREATION_RANGE = re.compile(r"creationDate:\[(\S+) TO (\S+)\]")


def check_page_cap(page: int) -> None:
    """A page beyond VTEX's 30th is refused, saying how to read further (slice the date range)."""
    if page > MAX_LIST_PAGE:
        raise bad_request(
            f"page {page} is beyond the last page VTEX's order list serves ({MAX_LIST_PAGE} pages of at most "
            "100 orders): narrow the query instead, e.g. slice f_creationDate into shorter ranges"
        )


def parse_creation_range(raw: str, name: str = "f_creationDate") -> tuple[str, str]:
    """``creationDate:[2026-11-01T00:00:00.000Z TO 2026-11-02T00:00:00.000Z]`` as two VTEX time stamps
    (inclusive bounds, comparable as strings)."""
    found = _CREATION_RANGE.fullmatch(raw.strip())
    bounds = (parse_date_time(found.group(1)), parse_date_time(found.group(2))) if found else (None, None)
    low, high = bounds
    if low is None or high is None:
        raise bad_request(
            f"{name} must be creationDate:[FROM TO TO], ISO 8601 dates and times, e.g. "
            f"creationDate:[2026-11-01T00:00:00.000Z TO 2026-11-01T23:59:59.999Z]; got {raw!r}"
        )
    return low, high


def order_by_ascending(raw: str | None, name: str = "orderBy") -> bool:
    """``orderBy`` (``creationDate,desc`` by default): whether the list runs oldest first. Other fields
    are taken in VTEX's default order (the sandbox sorts by creation date only)."""
    if raw is None or raw == "":
        return False
    field_name, _, direction = raw.partition(",")
    direction = direction.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise bad_request(f"{name} must be FIELD,asc or FIELD,desc (e.g. creationDate,asc), not {raw!r}")
    return direction == "asc" and field_name.strip() == "creationDate"
