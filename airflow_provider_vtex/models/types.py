"""The value rules VTEX's payloads share, as reusable annotated types.

Each model then reads like VTEX's schema table (``invoice_value: PositiveCents``), and each rule lives
once. Every rule raises ``ValueError`` with the message the user reads: what was wrong and the fix.

Jinja renders strings, so amounts and counts also arrive as digit strings (``"2499"``); surrounding
white space is trimmed, anything else non-digit is refused. Dates are parsed, never only
pattern-matched: ``"2024-13-45"`` is refused. ``NaN`` and ``Infinity`` are never numbers VTEX accepts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError

_DIGITS = re.compile(r"[0-9]+")
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DELIVERED_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
#: Letters, digits, dot, dash, underscore: what VTEX's invoice and order routes handle everywhere.
_PATH_SAFE = re.compile(r"[A-Za-z0-9._-]+")
#: Longest order id or invoice number accepted (VTEX's are far shorter; a bound stops abuse).
MAX_ID_LENGTH = 100
EVENT_DESCRIPTION_MAX = 5000
_DATETIME = TypeAdapter(dt.datetime)


# ------------------------------------------------------------------------------------------ numbers
def _whole_number(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be {what}; got the boolean {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, float | Decimal | str):
        raise ValueError(f"must be {what}, without a decimal separator or other characters; got {value!r}")
    raise ValueError(f"must be {what}; got {type(value).__name__}")


def _cents(minimum: int) -> BeforeValidator:
    example = "an integer amount in cents, e.g. 2499 for 24.99"

    def check(value: Any) -> int:
        cents = _whole_number(value, example)
        if cents < minimum:
            floor = "greater than 0" if minimum else "0 or more"
            raise ValueError(f"must be {floor} ({example}); got {value!r}")
        return cents

    return BeforeValidator(check)


def _count(minimum: int, what: str) -> BeforeValidator:
    def check(value: Any) -> int:
        number = _whole_number(value, f"a whole number ({what})")
        if number < minimum:
            raise ValueError(f"must be at least {minimum} ({what}); got {number}")
        return number

    return BeforeValidator(check)


#: An amount in integer cents, > 0.
PositiveCents = Annotated[int, _cents(1)]
#: An amount in integer cents, >= 0.
Cents = Annotated[int, _cents(0)]
#: Units of an item, >= 1.
Quantity = Annotated[int, _count(1, "units invoiced")]
#: A position in the order's items, starting at 0.
ItemIndex = Annotated[int, _count(0, "the item's position in the order's items, starting at 0")]
#: Packages in a shipment, >= 0.
Volumes = Annotated[int, _count(0, "number of packages")]


# ------------------------------------------------------------------------------------------ texts
def _text(value: Any) -> Any:
    """Numbers are fine where VTEX wants text (an ERP may hand over an integer key); the rest is checked
    by pydantic as a string."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def _non_empty_text(value: Any) -> Any:
    return _not_blank(_text(value))


def check_path_value(value: Any, what: str, example: str) -> str:
    """An order id or invoice number that can sit in a URL path without changing the route.

    VTEX's own ids use letters, digits, ``-``, ``_`` and ``.``; ``.`` and ``..`` alone would be collapsed
    by the HTTP stack into another route, and VTEX's tracking routes break on spaces, ``/`` and ``#``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty {what} such as {example!r}; got {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"must be at most {MAX_ID_LENGTH} characters; got {len(value)}")
    if not _PATH_SAFE.fullmatch(value) or value in (".", ".."):
        raise ValueError(
            f"may contain only letters, digits, '.', '-' and '_' (and not be '.' or '..' alone), as VTEX's "
            f"{what}s do; got {value!r}"
        )
    return value


def _invoice_number(value: Any) -> str:
    return check_path_value(value, "invoice number", "NF-0001")


#: Free text; numbers become text.
Text = Annotated[str, BeforeValidator(_text)]
#: Text that must not be blank; numbers become text (ids, tracking codes).
NonEmptyText = Annotated[str, BeforeValidator(_non_empty_text)]
#: Words that must not be blank, and are never numbers (a city, a description).
Words = Annotated[str, BeforeValidator(_not_blank)]
#: An invoice number VTEX can route: letters, digits, ``.``, ``-``, ``_``.
InvoiceNumber = Annotated[str, BeforeValidator(_invoice_number)]


# ------------------------------------------------------------------------------------------ dates
def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return _DATETIME.validate_python(text)
    except ValidationError:
        return None


def _datetime_with_offset(value: Any) -> str:
    """A date, a time and a UTC offset: what VTEX's standard routes want (``issuanceDate``)."""
    example = "e.g. '2024-01-31T18:25:43-03:00'"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"is a datetime without a time zone, and VTEX needs the offset: make it aware "
                f"(datetime.now(timezone.utc), or .astimezone()) or pass text {example}"
            )
        return value.isoformat()
    if isinstance(value, dt.date):
        raise ValueError(
            f"is a date without a time; VTEX needs the date AND the time with its offset, {example}"
        )
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date and time with offset, {example}; got {value!r}")
    text = value.strip()
    parsed = _parse_datetime(text) if _DATE_SHAPE.fullmatch(text[:10]) else None
    if parsed is None:
        raise ValueError(f"must be an ISO 8601 date and time with offset, {example}; got {value!r}")
    if len(text) == 10:
        raise ValueError(
            f"has a date but no time; VTEX needs the date AND the time with its offset, {example}"
        )
    if parsed.tzinfo is None:
        raise ValueError(f"has no UTC offset; add it, {example} (or 'Z' for UTC); got {value!r}")
    return text


def _date_only(value: Any) -> str:
    """``YYYY-MM-DD``, as the PII route's ``issuedDate`` wants it."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_SHAPE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError(f"must be a date as YYYY-MM-DD, e.g. '2024-09-20'; got {value!r}")


def _event_date(value: Any) -> str:
    """A tracking event's day, ``yyyy-mm-dd``; a datetime (or ISO datetime text) gives its date."""
    if isinstance(value, str) and len(value.strip()) > 10:
        parsed = _parse_datetime(value.strip()) if _DATE_SHAPE.fullmatch(value.strip()[:10]) else None
        if parsed is not None:
            return parsed.date().isoformat()
    try:
        return _date_only(value)
    except ValueError:
        raise ValueError(f"must be a date as yyyy-mm-dd, e.g. '2024-02-08'; got {value!r}") from None


def _delivered_date(value: Any) -> str:
    """VTEX's own ``yyyy-mm-dd hh:mm`` (not ISO 8601); a datetime or ISO text is converted."""
    message = f"must be a date and time as 'yyyy-mm-dd hh:mm', e.g. '2024-02-10 14:30'; got {value!r}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if not isinstance(value, str):
        raise ValueError(message)
    text = value.strip()
    if _DELIVERED_SHAPE.fullmatch(text):
        try:
            return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").strftime("%Y-%m-%d %H:%M")
        except ValueError:
            raise ValueError(message) from None
    parsed = _parse_datetime(text) if _DATE_SHAPE.fullmatch(text[:10]) and len(text) > 10 else None
    if parsed is None:
        raise ValueError(message)
    return parsed.strftime("%Y-%m-%d %H:%M")


#: Date, time and offset (standard route's ``issuanceDate``, ``dispatchedDate``); sent as written.
DateTimeWithOffset = Annotated[str, BeforeValidator(_datetime_with_offset)]
#: ``YYYY-MM-DD`` (PII route's ``issuedDate``).
DateOnly = Annotated[str, BeforeValidator(_date_only)]
#: ``yyyy-mm-dd`` of a tracking event.
EventDate = Annotated[str, BeforeValidator(_event_date)]
#: ``yyyy-mm-dd hh:mm`` of a delivery.
DeliveredDate = Annotated[str, BeforeValidator(_delivered_date)]


# ------------------------------------------------------------------------------------------ lists
def json_list(example: str) -> BeforeValidator:
    """A list given as JSON text (what ``{{ ... | tojson }}`` renders to) becomes a list."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, list):
                raise ValueError(f"must be a list, or a JSON array as text such as {example}")
        return value

    return BeforeValidator(check)


def non_empty(example: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise ValueError(f"must list at least one invoiced item, e.g. {example}")
        return value

    return BeforeValidator(check)
