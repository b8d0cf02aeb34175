"""The standard OMS route set's request contracts (``/api/oms/pvt/orders/...``), as VTEX documents them.

Written from ``VTEX - Orders API.json`` (operations InvoiceNotification,
Updatepartialinvoice.SendTrackingNumber, UpdateTrackingStatus, ListOrders, CancelOrder), never from the
PII file: a field of the PII route here is refused with a message naming the route it belongs to.

Property names are matched without regard to case, as VTEX's .NET readers do (``common.canonical_keys``).

Choice where VTEX is vague: ``invoiceValue`` must be a STRING of digits, as the spec types it. A public
integration reports that VTEX also takes a JSON number; the sandbox refuses it anyway, so a client that
only works thanks to that undocumented leniency is caught here and not in production.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vtex_sandbox.errors import bad_request
from vtex_sandbox.model import InvoiceLine, InvoiceNotice, TrackingEvent
from vtex_sandbox.validation.common import (
    canonical_keys,
    check_page_cap,
    is_int,
    is_text,
    optional_text,
    order_by_ascending,
    parse_creation_range,
    parse_date,
    parse_date_space_minutes,
    parse_date_time,
    refuse_foreign_fields,
    require_object,
)
from vtex_sandbox.validation.lines import check_line

if TYPE_CHECKING:
    from vtex_sandbox.model import Order

INVOICE_ROUTE = "the standard route POST /api/oms/pvt/orders/{orderId}/invoice"
_PII_INVOICE_ROUTE = "the PII route POST /api/orders/pvt/document/{orderId}/invoices"
_FOREIGN_INVOICE_FIELDS = {
    "issuedDate": _PII_INVOICE_ROUTE + " (here: issuanceDate, a date and time)",
    "extraValue": _PII_INVOICE_ROUTE,
    "volumes": _PII_INVOICE_ROUTE,
    "cfop": _PII_INVOICE_ROUTE,
}
_FOREIGN_ITEM_FIELDS = {"itemIndex": _PII_INVOICE_ROUTE + " (here: id, the SKU id)"}
_INVOICE_FIELDS = (
    "type",
    "issuanceDate",
    "invoiceNumber",
    "invoiceValue",
    "invoiceKey",
    "invoiceUrl",
    "embeddedInvoice",
    "courier",
    "trackingNumber",
    "trackingUrl",
    "dispatchedDate",
    "items",
    *_FOREIGN_INVOICE_FIELDS,
)
_ITEM_FIELDS = ("id", "price", "quantity", "description", *_FOREIGN_ITEM_FIELDS)
_DIGITS = re.compile(r"[0-9]+")
_NULLABLE_TEXT = ("invoiceKey", "invoiceUrl", "embeddedInvoice", "trackingNumber", "trackingUrl")
_EXAMPLE_DATE = "2024-01-31T18:25:43-05:00"


def validate_invoice(body: Any, order: Order) -> InvoiceNotice:
    """Check an invoice notification body against the standard contract; raise a 400 otherwise."""
    body = canonical_keys(require_object(body), _INVOICE_FIELDS)
    refuse_foreign_fields(body, _FOREIGN_INVOICE_FIELDS, "", INVOICE_ROUTE)
    kind = body.get("type")
    if kind not in ("Output", "Input"):
        raise bad_request("Invalid invoice type: 'type' must be 'Output' or 'Input' (case-sensitive)")
    number = body.get("invoiceNumber")
    if not isinstance(number, str) or not is_text(number):
        raise bad_request("invoiceNumber is required and cannot be empty")
    raw_value = body.get("invoiceValue")
    if not isinstance(raw_value, str) or not _DIGITS.fullmatch(raw_value):
        raise bad_request(
            "invoiceValue is required and must be the total in cents as a STRING of digits without "
            f'decimal separator (e.g. "2499" for 24.99) on {INVOICE_ROUTE}; got {raw_value!r}'
        )
    value = int(raw_value)
    if value <= 0:
        raise bad_request("invoiceValue must be greater than 0")
    issuance = parse_date_time(body.get("issuanceDate"))
    if issuance is None:
        raise bad_request(
            "issuanceDate is required: the date AND time the invoice was issued, ISO 8601, e.g. "
            f"{_EXAMPLE_DATE} (VTEX: 'You must add date and time in this field'); got "
            f"{body.get('issuanceDate')!r}"
        )
    texts = {key: optional_text(body, key) for key in _NULLABLE_TEXT}
    courier = optional_text(body, "courier", nullable=False)
    dispatched = _optional_date_time(body, "dispatchedDate")
    lines = _invoice_lines(body.get("items"), order)
    return InvoiceNotice(
        kind=kind,
        number=number,
        value=value,
        issuance_date=issuance,
        lines=lines,
        invoice_key=texts["invoiceKey"],
        invoice_url=texts["invoiceUrl"],
        embedded_invoice=texts["embeddedInvoice"],
        courier=courier,
        tracking_number=texts["trackingNumber"],
        tracking_url=texts["trackingUrl"],
        dispatched_date=dispatched,
    )


def _invoice_lines(raw_items: Any, order: Order) -> tuple[InvoiceLine, ...]:
    if not isinstance(raw_items, list) or not raw_items:
        raise bad_request("items is required: the list of invoiced items cannot be empty")
    sku_index: dict[str, int] = {}
    for index, ordered in enumerate(order.items):
        sku_index.setdefault(ordered.sku, index)
    lines: list[InvoiceLine] = []
    for position, raw in enumerate(raw_items):
        where = f"items[{position}]."
        item = canonical_keys(require_object(raw, f"items[{position}]"), _ITEM_FIELDS, where)
        refuse_foreign_fields(item, _FOREIGN_ITEM_FIELDS, where, INVOICE_ROUTE)
        sku = item.get("id")
        if not isinstance(sku, str) or not is_text(sku):
            raise bad_request(f"{where}id is required: the SKU id of an order item, as a string")
        if sku not in sku_index:
            raise bad_request(f"{where}id {sku!r} is not a SKU of order {order.order_id}")
        price, quantity = item.get("price"), item.get("quantity")
        if not is_int(price) or price < 0:
            raise bad_request(f"{where}price is required: the UNIT price in cents, an integer >= 0")
        if not is_int(quantity) or quantity <= 0:
            raise bad_request(f"{where}quantity is required: an integer greater than 0")
        description = optional_text(item, "description", where, nullable=False)
        index = sku_index[sku]
        check_line(order, index, price, quantity, where, unit_price=True)
        lines.append(InvoiceLine(index, sku, quantity, price, price * quantity, description))
    return tuple(lines)


def _optional_date_time(body: dict[str, Any], key: str) -> str | None:
    if body.get(key) is None:
        return None
    parsed = parse_date_time(body[key])
    if parsed is None:
        raise bad_request(f"{key} must be an ISO 8601 date and time, e.g. {_EXAMPLE_DATE}, or null")
    return parsed


def validate_tracking_number(body: Any) -> dict[str, str | None]:
    """PATCH tracking: the fields to change. Absent keys stay as they were; an explicit ``null`` erases
    the value (the pessimistic reading: a client that sends nulls loses what the invoice held)."""
    body = canonical_keys(
        require_object(body), ("trackingNumber", "trackingUrl", "courier", "dispatchedDate")
    )
    number = body.get("trackingNumber")
    if not isinstance(number, str) or not is_text(number):
        raise bad_request("trackingNumber is required and cannot be empty")
    changes: dict[str, str | None] = {"trackingNumber": number}
    for key in ("trackingUrl", "courier"):
        if key in body:
            changes[key] = optional_text(body, key)
    if "dispatchedDate" in body:
        changes["dispatchedDate"] = _optional_date_time(body, "dispatchedDate")
    return changes


def validate_tracking_status(body: Any, received: str) -> tuple[bool, str | None, list[TrackingEvent]]:
    """PUT tracking: (delivered, delivered date as a VTEX time stamp, events)."""
    body = canonical_keys(require_object(body), ("isDelivered", "deliveredDate", "events"))
    delivered = body.get("isDelivered")
    if not isinstance(delivered, bool):
        raise bad_request("isDelivered is required and must be a boolean")
    if "deliveredDate" not in body:
        # The OpenAPI file marks deliveredDate required (nullable); send null when not delivered.
        raise bad_request("deliveredDate is required (use null when the package is not delivered yet)")
    delivered_date = None
    if body["deliveredDate"] is not None:
        delivered_date = parse_date_space_minutes(body["deliveredDate"])
        if delivered_date is None:
            raise bad_request(
                "deliveredDate must be a real date and time in the format 'yyyy-mm-dd hh:mm' "
                f"(e.g. '2022-10-01 21:15'); got {body['deliveredDate']!r}"
            )
    events = body.get("events")
    if not isinstance(events, list):
        raise bad_request("events is required and must be a list")
    checked: list[TrackingEvent] = []
    for position, raw in enumerate(events):
        where = f"events[{position}]"
        event = canonical_keys(
            require_object(raw, where), ("city", "state", "description", "date"), f"{where}."
        )
        for key in ("city", "state", "description", "date"):
            if not isinstance(event.get(key), str):
                raise bad_request(f"{where}.{key} is required and must be a string")
        if len(event["description"]) > 5000:
            raise bad_request(f"{where}.description is longer than 5000 characters")
        day = parse_date(event["date"])
        if day is None:
            raise bad_request(
                f"{where}.date must be a real day in the international format yyyy-mm-dd; got {event['date']!r}"
            )
        checked.append(TrackingEvent(event["city"], event["state"], event["description"], day, received))
    return delivered, delivered_date, checked


#: The boolean filters of GET /api/oms/pvt/orders (the others are strings, any value goes).
_BOOLEAN_FILTERS = ("f_hasInputInvoice", "incompleteOrders", "f_isInstore")


def validate_list_query(query: dict[str, list[str]]) -> tuple[int, int, set[str]]:
    """GET /api/oms/pvt/orders: (page, per_page, statuses); a parameter given twice or of the wrong
    type is a 400."""
    for name, values in query.items():
        if len(values) > 1:
            raise bad_request(f"Query parameter {name} is given {len(values)} times; give it once")
    for name in _BOOLEAN_FILTERS:
        if name in query and query[name][0] not in ("true", "false"):
            raise bad_request(f"Query parameter {name} must be true or false, not {query[name][0]!r}")
    page, per_page = _query_int(query, "page", 1), _query_int(query, "per_page", 15)
    check_page_cap(page)
    statuses = {s for raw in query.get("f_status", []) for s in raw.split(",") if s}
    return page, per_page, statuses


def list_options(query: dict[str, list[str]]) -> dict[str, Any]:
    """The list filters the sandbox plays beyond paging and status: ``f_creationDate`` (a range of creation
    dates), ``incompleteOrders`` and ``orderBy`` (creation date ascending or descending)."""
    options: dict[str, Any] = {
        "incomplete": query.get("incompleteOrders", ["false"])[0] == "true",
        "ascending": order_by_ascending(query.get("orderBy", [""])[0]),
    }
    if query.get("f_creationDate"):
        options["created"] = parse_creation_range(query["f_creationDate"][0])
    return options


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1]
    if not _DIGITS.fullmatch(raw) or int(raw) < 1:
        raise bad_request(f"Query parameter {name} must be a positive integer")
    return int(raw)


def validate_user_orders_query(query: dict[str, list[str]]) -> tuple[int, int, set[str], str | None]:
    """GET /api/oms/user/orders (and one user order): (page, per_page, statuses, clientEmail); the same
    checks as the list's, and ``my_pending_approvals`` is a boolean."""
    for name, values in query.items():
        if len(values) > 1:
            raise bad_request(f"Query parameter {name} is given {len(values)} times; give it once")
    if "my_pending_approvals" in query and query["my_pending_approvals"][0] not in ("true", "false"):
        raise bad_request("Query parameter my_pending_approvals must be true or false")
    page, per_page = _query_int(query, "page", 1), _query_int(query, "per_page", 15)
    check_page_cap(page)
    statuses = {s for raw in query.get("status", []) for s in raw.split(",") if s}
    email = (query.get("clientEmail") or [""])[0] or None
    return page, per_page, statuses, email
