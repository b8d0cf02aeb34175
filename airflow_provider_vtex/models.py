"""VTEX's OMS payload contract as pydantic models: what may be sent, checked before anything is sent.

Why a contract of our own instead of sending whatever the DAG built: VTEX answers many mistakes with a
200 and breaks later (an invoice number with a space or ``/`` breaks every tracking update; ``"24.99"``
is read as 2,499 reais), so each rule here fails early with a message naming the field and the fix.

Wire format: camelCase keys (snake_case is accepted from Python), and for the invoice only the keys the
author set, with the values as given: VTEX's reference payload must go out byte for byte. Two values are
normalised because VTEX documents one type only: an integer ``invoiceValue`` is sent as a string of digits,
and date/datetime objects are sent as ISO 8601 strings.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from airflow_provider_vtex.exceptions import VtexPayloadError

INVOICE_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")
# re.ASCII: \d must not match other scripts' digits, which VTEX would not read as numbers.
_DIGITS = re.compile(r"^[0-9]+$")
_ISO_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d{1,9})?)?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?)?$",
    re.ASCII,
)
_DELIVERED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", re.ASCII)
EVENT_DESCRIPTION_MAX = 5000

PayloadT = TypeVar("PayloadT", bound="VtexPayload")


# --------------------------------------------------------------------------------------------------
# Value rules shared by several fields. Each raises ValueError with the message the user will read.
# --------------------------------------------------------------------------------------------------
def _cents(value: Any, *, allow_zero: bool) -> int:
    """An amount in integer cents, from an int or a string of digits; refuses anything with decimals."""
    floor = "0 or more" if allow_zero else "greater than 0"
    example = "in cents, e.g. 2499 for 24.99"
    if isinstance(value, bool):
        raise ValueError(f"must be an amount {example}; got the boolean {value}")
    if isinstance(value, int):
        cents = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        cents = int(value.strip())
    elif isinstance(value, str | float | Decimal):
        raise ValueError(f"must be an integer amount {example}, without a decimal separator; got {value!r}")
    else:
        raise ValueError(f"must be an integer amount {example}; got {type(value).__name__}")
    if cents < 0 or (cents == 0 and not allow_zero):
        raise ValueError(f"must be {floor} ({example}); got {value!r}")
    return cents


def _count(value: Any, *, minimum: int, what: str) -> int:
    """A whole number such as a quantity; accepts digit strings because Jinja renders strings."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a whole number ({what}); got {value!r}")
    if isinstance(value, str) and not _DIGITS.match(value.strip()):
        raise ValueError(f"must be a whole number ({what}); got {value!r}")
    number = int(value)
    if number < minimum:
        raise ValueError(f"must be at least {minimum} ({what}); got {number}")
    return number


def _iso_datetime_text(value: Any, *, field_hint: str) -> str:
    """A date or datetime as ISO 8601 text; strings are checked and kept exactly as written."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"must be a date, a datetime or an ISO 8601 string ({field_hint}); got {value!r}")
    match = _ISO_DATETIME.match(value.strip())
    problem = match is None
    if match:
        try:
            dt.date.fromisoformat(match["date"])
            if match["hour"] is not None:
                dt.time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0))
        except ValueError:
            problem = True
    if problem:
        raise ValueError(f"must be an ISO 8601 date or datetime ({field_hint}); got {value!r}")
    return value


def _json_list(value: Any, *, example: str) -> Any:
    """A list given as JSON text (what ``{{ ... | tojson }}`` renders to) becomes a list; others pass through."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, list):
        raise ValueError(f"must be a list, or a JSON array as text such as {example}; got {value[:80]!r}")
    return parsed


def _optional_text(value: Any) -> Any:
    """Numbers are fine where VTEX wants text (an ERP may hand us an integer key); others are left to pydantic."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


class VtexPayload(BaseModel):
    """Base of every request body: camelCase on the wire, unknown keys refused, strict about nothing else."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    #: Human name used in error messages ("invoice", "tracking"...).
    payload_name: ClassVar[str] = "payload"
    #: What to tell a user who left out a required field.
    required_hints: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls: type[PayloadT], value: Any) -> PayloadT:
        """Build the model from an instance of it, a mapping or a JSON object string.

        Raises :class:`VtexPayloadError` listing every problem with its field path.
        """
        if isinstance(value, cls):
            return value
        data = _as_mapping(value, cls.payload_name, cls.__name__)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise VtexPayloadError(cls.payload_name, _describe(exc, cls)) from None

    _key_order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        """Keep the author's key order, so the body goes out in the order it was written."""
        model = handler(data)
        if isinstance(model, VtexPayload) and isinstance(data, Mapping):
            model._key_order = [str(key) for key in data]
        return model

    def to_wire(self) -> dict[str, Any]:
        """The JSON body VTEX receives: camelCase keys, only the fields that were set, in the author's order."""
        return self._in_author_order(self.model_dump(mode="json", by_alias=True, exclude_unset=True))

    def _in_author_order(self, body: dict[str, Any]) -> dict[str, Any]:
        wire_names, nested = _wire_layout(type(self))
        for name, alias in nested:
            if alias in body:
                body[alias] = [
                    item._in_author_order(wire) if isinstance(item, VtexPayload) else wire
                    for item, wire in zip(getattr(self, name), body[alias], strict=True)
                ]
        ordered: dict[str, Any] = {}
        for key in self._key_order:
            wire_key = wire_names.get(key, key)
            if wire_key in body:
                ordered[wire_key] = body[wire_key]
        if len(ordered) != len(body):  # keys the author did not write (e.g. set by a validator)
            for key, value in body.items():
                ordered.setdefault(key, value)
        return ordered


@functools.cache
def _wire_layout(model: type[VtexPayload]) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Per model, once: every accepted key's wire name, and the fields that hold lists of payloads."""
    wire_names: dict[str, str] = {}
    nested: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        wire_names[name] = wire_names[alias] = alias
        if _nested_model(field.annotation) is not None:
            nested.append((name, alias))
    return wire_names, tuple(nested)


def _as_mapping(value: Any, what: str, model_name: str) -> Mapping[str, Any]:
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise VtexPayloadError(
                what,
                [
                    (
                        "(payload)",
                        f"is a string but not valid JSON ({exc.msg} at line {exc.lineno} column "
                        f"{exc.colno}); pass a dict or a JSON object",
                    )
                ],
            ) from None
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, exclude_unset=True)
    if not isinstance(value, Mapping):
        raise VtexPayloadError(
            what,
            [
                (
                    "(payload)",
                    f"must be a dict, a JSON object string or a {model_name} instance; got {type(value).__name__}",
                )
            ],
        )
    return value


def _describe(exc: ValidationError, model: type[VtexPayload]) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(field path, message that says the fix)`` pairs."""
    problems: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = ".".join(loc) or "(payload)"
        kind = error["type"]
        holder = _model_at(model, loc)
        if kind == "missing":
            message = "is required; " + holder.required_hints.get(loc[-1], "add it to the payload")
        elif kind == "extra_forbidden":
            known = [field.alias or name for name, field in holder.model_fields.items()]
            guess = difflib.get_close_matches(loc[-1], known, n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "allowed: " + ", ".join(sorted(known))
            message = f"is not a field VTEX accepts here; {hint}"
        elif kind == "value_error":
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        else:
            message = f"{error['msg'][:1].lower()}{error['msg'][1:]}; got {error.get('input')!r}"
        problems.append((field, message))
    return problems


def _model_at(model: type[VtexPayload], loc: list[str]) -> type[VtexPayload]:
    """The (possibly nested) model that holds the field at ``loc``, e.g. InvoiceItem for items.0.price."""
    current = model
    for part in loc[:-1]:
        if part.isdigit():
            continue
        field = next((f for name, f in current.model_fields.items() if part in (name, f.alias)), None)
        nested = _nested_model(field.annotation) if field else None
        if nested is None:
            break
        current = nested
    return current


def _nested_model(annotation: Any) -> type[VtexPayload] | None:
    """The payload model inside an annotation such as ``list[InvoiceItem]`` or ``InvoiceItem | None``."""
    if isinstance(annotation, type) and issubclass(annotation, VtexPayload):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        nested = _nested_model(arg)
        if nested is not None:
            return nested
    return None


# --------------------------------------------------------------------------------------------------
# Invoice: POST /api/oms/pvt/orders/{orderId}/invoice
# --------------------------------------------------------------------------------------------------
class InvoiceItem(VtexPayload):
    """One invoiced SKU line. ``price`` is the UNIT price in cents; VTEX multiplies it by ``quantity``."""

    payload_name: ClassVar[str] = "invoice item"
    required_hints: ClassVar[dict[str, str]] = {
        "price": "add the unit price in cents, e.g. 'price': 2499",
        "quantity": "add the invoiced quantity, e.g. 'quantity': 1",
    }

    id: str | None = Field(default=None, description="SKU id of the order item.")
    item_index: int | str | None = Field(
        default=None, description="Position of the item in the order (older route)."
    )
    price: int = Field(description="Unit price in cents.")
    quantity: int = Field(description="Quantity invoiced.")
    description: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return _optional_text(value)

    @field_validator("item_index", mode="before")
    @classmethod
    def _item_index(cls, value: Any) -> Any:
        if value is None:
            return value
        _count(value, minimum=0, what="the item's position in the order, starting at 0")
        return value  # kept as written: the older route's integrations send "67" as a string

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> int:
        return _cents(value, allow_zero=True)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        return _count(value, minimum=1, what="units invoiced")

    @model_validator(mode="after")
    def _identified(self) -> InvoiceItem:
        if self.id is None and self.item_index is None:
            raise ValueError(
                "an item needs 'id' (the SKU id) or 'itemIndex' (its position in the order) so VTEX knows "
                "which order item is invoiced"
            )
        return self


class Invoice(VtexPayload):
    """The invoice notification body, including the older route's fields integrations still send."""

    payload_name: ClassVar[str] = "invoice"
    required_hints: ClassVar[dict[str, str]] = {
        "type": "add 'type': 'Output' (a sale) or 'Input' (a return)",
        "invoiceNumber": "add the ERP's invoice number, e.g. 'invoiceNumber': 'NF-0001'",
        "invoiceValue": "add the invoiced total in cents, e.g. 'invoiceValue': '2499'",
        "items": "add the invoiced items, e.g. 'items': [{'id': '123', 'price': 2499, 'quantity': 1}]",
    }

    type: Literal["Output", "Input"]
    invoice_number: str
    invoice_value: str
    issuance_date: str | None = None
    issued_date: str | None = None
    items: list[InvoiceItem]
    invoice_key: str | None = None
    invoice_url: str | None = None
    embedded_invoice: str | None = None
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_date: str | None = None
    cfop: str | None = None
    extra_value: int | None = None
    volumes: int | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        if value not in ("Output", "Input"):
            raise ValueError(
                f"must be 'Output' (a sales invoice) or 'Input' (a return invoice), capitalised as written; "
                f"got {value!r}"
            )
        return value

    @field_validator("invoice_number", mode="before")
    @classmethod
    def _invoice_number(cls, value: Any) -> str:
        return check_invoice_number(value)

    @field_validator("invoice_value", mode="before")
    @classmethod
    def _invoice_value(cls, value: Any) -> str:
        _cents(value, allow_zero=False)
        # VTEX types invoiceValue as a string of digits: keep a string as written, send an int as digits.
        return value if isinstance(value, str) else str(value)

    @field_validator("issuance_date", "issued_date", "dispatched_date", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if value is None:
            return value
        return _iso_datetime_text(value, field_hint="e.g. 2024-01-31T18:25:43-05:00")

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        value = _json_list(value, example='[{"id": "123", "price": 2499, "quantity": 1}]')
        if isinstance(value, list | tuple) and not value:
            raise ValueError(
                "must list at least one invoiced item, e.g. [{'id': '123', 'price': 2499, 'quantity': 1}]"
            )
        return value

    @field_validator(
        "invoice_key",
        "invoice_url",
        "embedded_invoice",
        "courier",
        "tracking_number",
        "tracking_url",
        "cfop",
        mode="before",
    )
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _optional_text(value)

    @field_validator("extra_value", mode="before")
    @classmethod
    def _extra_value(cls, value: Any) -> Any:
        return None if value is None else _cents(value, allow_zero=True)

    @field_validator("volumes", mode="before")
    @classmethod
    def _volumes(cls, value: Any) -> Any:
        return None if value is None else _count(value, minimum=0, what="number of packages")

    @model_validator(mode="after")
    def _has_issuance_date(self) -> Invoice:
        if self.issuance_date is None and self.issued_date is None:
            raise ValueError(
                "issuanceDate is required: add 'issuanceDate' with the date and time the ERP issued the "
                "invoice, e.g. '2024-01-31T18:25:43-05:00' (the older route's 'issuedDate' is accepted too)"
            )
        return self


def check_invoice_number(value: Any) -> str:
    """The invoice number as text, refused when VTEX would choke on it later (spaces, ``/``, ``#``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty text such as 'NF-0001'; got {value!r}")
    if not INVOICE_NUMBER_PATTERN.match(value):
        raise ValueError(
            "may contain only letters, digits, '.', '-' and '_' (VTEX's tracking updates break on spaces, "
            f"'/' and '#'); got {value!r}"
        )
    return value


# --------------------------------------------------------------------------------------------------
# Tracking number: PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}
# --------------------------------------------------------------------------------------------------
class Tracking(VtexPayload):
    """The shipment's tracking number, URL, courier and dispatch date.

    VTEX's schema lists all four keys as required (three of them nullable), so the wire body always
    carries all four, with ``null`` for the ones not given.
    """

    payload_name: ClassVar[str] = "tracking"
    required_hints: ClassVar[dict[str, str]] = {
        "trackingNumber": "add the carrier's tracking code, e.g. 'trackingNumber': 'BR123456789'",
    }

    tracking_number: str
    tracking_url: str | None = None
    courier: str | None = None
    dispatched_date: str | None = None

    @field_validator("tracking_number", mode="before")
    @classmethod
    def _tracking_number(cls, value: Any) -> Any:
        value = _optional_text(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be the carrier's non-empty tracking code; got {value!r}")
        return value

    @field_validator("tracking_url", "courier", mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return _optional_text(value)

    @field_validator("dispatched_date", mode="before")
    @classmethod
    def _dispatched(cls, value: Any) -> Any:
        if value is None:
            return value
        return _iso_datetime_text(value, field_hint="e.g. 2024-02-08T13:16:13-03:00")

    def to_wire(self) -> dict[str, Any]:
        return self._in_author_order(self.model_dump(mode="json", by_alias=True))


# --------------------------------------------------------------------------------------------------
# Tracking status: PUT /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking
# --------------------------------------------------------------------------------------------------
class TrackingEvent(VtexPayload):
    """One step of the parcel's journey, as the customer sees it."""

    payload_name: ClassVar[str] = "tracking event"
    required_hints: ClassVar[dict[str, str]] = {
        "city": "add the city where the event happened, e.g. 'city': 'Rio de Janeiro'",
        "state": "add the state, e.g. 'state': 'RJ'",
        "description": "add what happened, e.g. 'description': 'Coletado pela transportadora'",
        "date": "add the event date as yyyy-mm-dd, e.g. 'date': '2024-02-08'",
    }

    city: str
    state: str
    description: str = Field(max_length=EVENT_DESCRIPTION_MAX)
    date: str

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10]).isoformat()
            except ValueError:
                pass
        raise ValueError(f"must be a date as yyyy-mm-dd, e.g. '2024-02-08'; got {value!r}")

    @field_validator("city", "state", "description", mode="before")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value


class TrackingStatus(VtexPayload):
    """Tracking events and whether the parcel was delivered.

    ``deliveredDate`` uses VTEX's own ``yyyy-mm-dd hh:mm`` format (not ISO 8601); a datetime or an ISO
    string is converted. The wire body always carries all three keys, as VTEX's schema requires.
    """

    payload_name: ClassVar[str] = "tracking status"

    is_delivered: bool = False
    delivered_date: str | None = None
    events: list[TrackingEvent] = Field(default_factory=list)

    @field_validator("events", mode="before")
    @classmethod
    def _events(cls, value: Any) -> Any:
        return _json_list(
            value, example='[{"city": "Rio", "state": "RJ", "description": "...", "date": "2024-02-08"}]'
        )

    @field_validator("delivered_date", mode="before")
    @classmethod
    def _delivered_date(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, str) and _DELIVERED_DATE.match(value.strip()):
            return value.strip()
        if isinstance(value, str) and _ISO_DATETIME.match(value.strip()):
            try:
                return dt.datetime.fromisoformat(value.strip()[:16]).strftime("%Y-%m-%d %H:%M")
            except ValueError:
                pass
        raise ValueError(
            f"must be a date and time as 'yyyy-mm-dd hh:mm', e.g. '2024-02-10 14:30'; got {value!r}"
        )

    @model_validator(mode="after")
    def _delivered_has_date(self) -> TrackingStatus:
        if self.is_delivered and self.delivered_date is None:
            raise ValueError(
                "isDelivered is true but deliveredDate is missing: add 'deliveredDate': 'yyyy-mm-dd hh:mm'"
            )
        return self

    def to_wire(self) -> dict[str, Any]:
        return self._in_author_order(self.model_dump(mode="json", by_alias=True))


#: Keys of a combined tracking payload that belong to the tracking status (PUT) rather than the number.
TRACKING_STATUS_KEYS = frozenset({"isDelivered", "is_delivered", "deliveredDate", "delivered_date", "events"})


def split_tracking_payload(value: Any) -> tuple[Tracking | None, TrackingStatus | None]:
    """Split one tracking payload into the tracking number part (PATCH) and the status part (PUT).

    A DAG usually knows both at once; VTEX wants them on two routes, number first.
    """
    if isinstance(value, Tracking):
        return value, None
    if isinstance(value, TrackingStatus):
        return None, value
    data = dict(_as_mapping(value, "tracking", "Tracking"))
    status_part = {k: v for k, v in data.items() if k in TRACKING_STATUS_KEYS}
    number_part = {k: v for k, v in data.items() if k not in TRACKING_STATUS_KEYS}
    if not status_part and not number_part:
        raise VtexPayloadError(
            "tracking",
            [
                (
                    "(payload)",
                    "is empty; give 'trackingNumber' (and optionally 'isDelivered', 'deliveredDate', 'events')",
                )
            ],
        )
    problems: list[tuple[str, str]] = []
    tracking = status = None
    if number_part:
        try:
            tracking = Tracking.parse(number_part)
        except VtexPayloadError as exc:
            problems += exc.errors
    if status_part:
        try:
            status = TrackingStatus.parse(status_part)
        except VtexPayloadError as exc:
            problems += exc.errors
    if problems:
        raise VtexPayloadError("tracking", problems)
    return tracking, status


__all__ = [
    "INVOICE_NUMBER_PATTERN",
    "Invoice",
    "InvoiceItem",
    "Tracking",
    "TrackingEvent",
    "TrackingStatus",
    "VtexPayload",
    "check_invoice_number",
    "split_tracking_payload",
]
