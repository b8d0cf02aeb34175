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

from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError

_DIGITS = re.compile(r"[0-9]+")
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DELIVERED_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
#: Letters, digits, dot, dash, underscore: what VTEX's invoice and order routes handle everywhere.
_PATH_SAFE = re.compile(r"[A-Za-z0-9._-]+")
#: Longest order id or invoice number accepted (VTEX's are far shorter; a bound stops abuse).
MAX_ID_LENGTH = 100
#: VTEX's documented limit on a tracking event's description (the readme of the tracking route).
EVENT_DESCRIPTION_MAX = 5000
# Bounds VTEX does not document (its OpenAPI files give no maxLength, maximum or maxItems for these
# fields): set at values no real order reaches, so a runaway ERP export (a 10 MB courier name, 200,000
# item lines, an amount of 10**30) is refused before sending, naming the field, instead of being sent.
#: Characters of a short text (courier, tracking number, URLs, invoice key, CFOP, an item's description,
#: a city): a long signed URL has about 2,000.
MAX_TEXT = 4_096
#: Characters of ``embeddedInvoice`` (the invoice document itself, e.g. an NF-e XML of tens of KB).
MAX_EMBEDDED_INVOICE = 1_000_000
#: Largest amount in cents: 10**12 cents, ten billion in the store's currency.
MAX_CENTS = 10**12
#: Units of one invoiced line.
MAX_QUANTITY = 1_000_000
#: Item lines of one invoice, tracking events of one update; also bounds an item's index in the order.
MAX_ITEMS = 10_000
#: Packages of one shipment.
MAX_VOLUMES = 100_000
#: Characters of one payload given as JSON text: several times the largest real one (a 1 MB embedded
#: invoice and thousands of item lines), so a runaway export is refused before it is even parsed.
MAX_PAYLOAD_CHARS = 16_000_000
#: Levels of nesting in a payload: VTEX's deepest (an invoice's items, a tracking update's events) have
#: three or four, so anything deeper is an export gone wrong. Checked before anything else, and without
#: recursion, so a payload nested 10,000 levels deep is a payload error, not Python's ``RecursionError``.
MAX_DEPTH = 32
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
        if cents > MAX_CENTS:
            raise ValueError(
                f"must be at most {MAX_CENTS:,} cents (ten billion; no real order reaches it, so this is "
                f"taken for a unit mistake); got {_size(cents)}"
            )
        return cents

    return BeforeValidator(check)


def _count(minimum: int, maximum: int, what: str) -> BeforeValidator:
    def check(value: Any) -> int:
        number = _whole_number(value, f"a whole number ({what})")
        if number < minimum:
            raise ValueError(f"must be at least {minimum} ({what}); got {number}")
        if number > maximum:
            raise ValueError(
                f"must be at most {maximum:,} ({what}; no real order reaches more); got {_size(number)}"
            )
        return number

    return BeforeValidator(check)


#: An amount in integer cents, > 0.
PositiveCents = Annotated[int, _cents(1)]
#: An amount in integer cents, >= 0.
Cents = Annotated[int, _cents(0)]
#: Units of an item, >= 1.
Quantity = Annotated[int, _count(1, MAX_QUANTITY, "units invoiced")]
#: Units of an item in an order modification: 0 allowed (a replacement down to none).
ChangeQuantity = Annotated[int, _count(0, MAX_QUANTITY, "units of the item")]
#: Units of an item added or removed by an order modification, >= 1.
ChangedUnits = Annotated[int, _count(1, MAX_QUANTITY, "units added or removed")]
#: A position in the order's items, starting at 0.
ItemIndex = Annotated[
    int, _count(0, MAX_ITEMS - 1, "the item's position in the order's items, starting at 0")
]
#: Packages in a shipment, >= 0.
Volumes = Annotated[int, _count(0, MAX_VOLUMES, "number of packages")]


def _size(number: int) -> str:
    """A number for a message: in full when short, else its order of magnitude (10**30 is not printed)."""
    text = str(number)
    return text if len(text) <= 20 else f"a number of {len(text)} digits"


# ------------------------------------------------------------------------------------------ texts
def at_most_chars(limit: int, reason: str) -> AfterValidator:
    """Refuse text longer than ``limit`` characters, saying why the bound is where it is."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters ({reason}); got {len(value)}")
        return value

    return AfterValidator(check)


_SHORT_TEXT = at_most_chars(MAX_TEXT, "no real value of this field is longer")


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


def is_path_safe(value: Any) -> bool:
    """Whether ``value`` is text :func:`check_path_value` accepts (for readers of VTEX's answers, which
    set an item aside instead of raising)."""
    try:
        check_path_value(value, "id", "")
    except ValueError:
        return False
    return isinstance(value, str)


def _invoice_number(value: Any) -> str:
    return check_path_value(value, "invoice number", "NF-0001")


#: Free text, at most :data:`MAX_TEXT` characters; numbers become text.
Text = Annotated[str, BeforeValidator(_text), _SHORT_TEXT]
#: Text that must not be blank, at most :data:`MAX_TEXT` characters; numbers become text (ids, codes).
NonEmptyText = Annotated[str, BeforeValidator(_non_empty_text), _SHORT_TEXT]
#: Words that must not be blank, and are never numbers (a city, a state); at most :data:`MAX_TEXT`.
Words = Annotated[str, BeforeValidator(_not_blank), _SHORT_TEXT]
#: A tracking event's description: words, at most VTEX's documented :data:`EVENT_DESCRIPTION_MAX`.
EventDescription = Annotated[
    str,
    BeforeValidator(_not_blank),
    at_most_chars(EVENT_DESCRIPTION_MAX, "VTEX's documented limit for a tracking event's description"),
]
#: The invoice document itself (``embeddedInvoice``), at most :data:`MAX_EMBEDDED_INVOICE` characters.
EmbeddedDocument = Annotated[
    str,
    BeforeValidator(_text),
    at_most_chars(MAX_EMBEDDED_INVOICE, "1 MB; a real invoice document is tens of KB"),
]
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


# ------------------------------------------------------------------------------------------ JSON text
class DuplicateKeyError(ValueError):
    """A JSON object in a payload's text names a key twice."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"the key {shown_key(key)} appears twice in one JSON object; give each key once (which value "
            "was meant is not guessed: json.loads would silently keep the last)"
        )


class TooDeepError(ValueError):
    """A payload nests deeper than :data:`MAX_DEPTH`; ``path`` is where the limit was passed."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"nests more than {MAX_DEPTH} levels deep, where VTEX's payloads have at most four; pass the "
            "fields the payload lists (flat values, items as a list of objects), not a nested export"
        )


#: Characters of a key quoted in a message (a 10 MB key is named by its start and its length).
SHOWN_KEY_CHARS = 60


def shown_key(key: str) -> str:
    """A key for a message: quoted in full when short, else its start and its length."""
    if len(key) <= SHOWN_KEY_CHARS:
        return repr(key)
    return f"{key[:SHOWN_KEY_CHARS]!r}… ({len(key):,} characters)"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The dotted path at which ``value`` (dicts and lists) nests deeper than ``limit``, or ``None``.

    Walks with an explicit stack, never recursion: the check must hold for the payloads that would
    exhaust Python's stack. It visits containers only, and works out the path only for a payload it
    refuses, so checking 10,000 item lines stays in milliseconds.
    """
    if not isinstance(value, _CONTAINERS):
        return None
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, _CONTAINERS):
                if depth + 1 >= limit:
                    return _path_past(value, limit)
                stack.append((child, depth + 1))
    return None


_CONTAINERS = (dict, list, tuple)


def _path_past(value: Any, limit: int) -> str:
    """Where ``value`` first nests ``limit`` containers deep, for the message: the first four keys, then
    how many levels deeper."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= limit:
            shown = ".".join(part if len(part) <= 20 else part[:19] + "…" for part in path[:4])
            deeper = f"… ({len(path) - 4} levels deeper)" if len(path) > 4 else ""
            return shown + deeper or "(payload)"
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((child, (*path, str(key))) for key, child in items if isinstance(child, _CONTAINERS))
    return "(payload)"


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKeyError(key)
        obj[key] = value
    return obj


def loads_json(text: str) -> Any:
    """``json.loads`` for payloads given as text, refusing an object with a key twice
    (:class:`DuplicateKeyError`): ``{"invoiceValue": "7497", "invoiceValue": "999999"}`` must not send
    999999 silently. Text nested deeper than :data:`MAX_DEPTH` is :class:`TooDeepError`, also where
    ``json.loads`` itself would run out of stack."""
    try:
        value = json.loads(text, object_pairs_hook=_refuse_duplicates)
    except RecursionError:
        raise TooDeepError("(payload)") from None
    path = too_deep(value)
    if path is not None:
        raise TooDeepError(path)
    return value


# ------------------------------------------------------------------------------------------ lists
def json_list(example: str) -> BeforeValidator:
    """A list given as JSON text (what ``{{ ... | tojson }}`` renders to) becomes a list."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = loads_json(value)
            except (DuplicateKeyError, TooDeepError):
                raise
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, list):
                raise ValueError(f"must be a list, or a JSON array as text such as {example}")
        return value

    return BeforeValidator(check)


def at_most_items(limit: int, what: str, reason: str = "no real order has more") -> BeforeValidator:
    """Refuse a list longer than ``limit`` (place it first in ``Annotated``: it then runs after
    :func:`json_list` has turned JSON text into a list)."""

    def check(value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > limit:
            raise ValueError(f"must hold at most {limit:,} {what} ({reason}); got {len(value):,}")
        return value

    return BeforeValidator(check)


def non_empty(example: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise ValueError(f"must list at least one invoiced item, e.g. {example}")
        return value

    return BeforeValidator(check)
