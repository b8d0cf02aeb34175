"""The standard OMS route set's request contracts (``/api/oms/pvt/orders/...``), as VTEX documents them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.sandbox.errors import bad_request
from airflow_provider_vtex.sandbox.validation.common import is_int, is_text

if TYPE_CHECKING:
    from airflow_provider_vtex.sandbox.model import Order

_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DELIVERED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
_DIGITS = re.compile(r"^[0-9]+$")
_OPTIONAL_TEXT_FIELDS = (
    "invoiceKey",
    "invoiceUrl",
    "embeddedInvoice",
    "courier",
    "trackingNumber",
    "trackingUrl",
    "dispatchedDate",
    "cfop",
)


def validate_invoice(body: Any, order: Order) -> dict[str, Any]:
    """Check an invoice notification body; returns the normalised payload or raises a 400."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    kind = body.get("type")
    if kind not in ("Output", "Input"):
        raise bad_request("Invalid invoice type: 'type' must be 'Output' or 'Input' (case-sensitive)")
    number = body.get("invoiceNumber")
    if not is_text(number):
        raise bad_request("invoiceNumber is required and cannot be empty")
    raw_value = body.get("invoiceValue")
    if is_int(raw_value):
        value = raw_value
    elif isinstance(raw_value, str) and _DIGITS.match(raw_value):
        value = int(raw_value)
    else:
        raise bad_request(
            "invoiceValue is required and must be the total in cents, as an integer or a string of "
            'digits without decimal separator (e.g. "2499" for 24.99)'
        )
    assert isinstance(value, int)
    if value <= 0:
        raise bad_request("invoiceValue must be greater than 0")
    issuance = body.get("issuanceDate", body.get("issuedDate"))
    if not is_text(issuance):
        raise bad_request("issuanceDate is required (date and time of the invoice)")
    assert isinstance(issuance, str)
    if not _DATE_PREFIX.match(issuance):
        raise bad_request("issuanceDate must be an ISO 8601 date and time, e.g. 2024-01-31T18:25:43-05:00")
    for key in _OPTIONAL_TEXT_FIELDS:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise bad_request(f"{key} must be a string or null")
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise bad_request("items is required: the list of invoiced items cannot be empty")
    items: list[dict[str, Any]] = []
    sku_index: dict[str, int] = {}
    for index, item in enumerate(order.items):
        sku_index.setdefault(item["id"], index)
    for position, item in enumerate(raw_items):
        where = f"items[{position}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object")
        price, quantity = item.get("price"), item.get("quantity")
        if not is_int(price) or price < 0:
            raise bad_request(f"{where}.price is required: the unit price in cents, an integer >= 0")
        if not is_int(quantity) or quantity <= 0:
            raise bad_request(f"{where}.quantity is required: an integer greater than 0")
        if item.get("id") is not None:
            sku = str(item["id"]) if is_int(item["id"]) else item["id"]
            if not isinstance(sku, str) or sku not in sku_index:
                raise bad_request(f"{where}.id {item['id']!r} is not a SKU of order {order.order_id}")
            item_index = sku_index[sku]
        elif item.get("itemIndex") is not None:
            item_index = item["itemIndex"]
            if not is_int(item_index) or not 0 <= item_index < len(order.items):
                raise bad_request(f"{where}.itemIndex {item_index!r} is not a position in the order items")
        else:
            raise bad_request(f"{where} needs the SKU 'id' (or 'itemIndex')")
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise bad_request(f"{where}.description must be a string")
        items.append(
            {
                "itemIndex": item_index,
                "id": order.items[item_index]["id"],
                "quantity": quantity,
                "price": price,
                "description": description,
            }
        )
    normalised = dict(body)
    normalised.update(type=kind, invoiceNumber=number, invoiceValue=value, issuanceDate=issuance, items=items)
    return normalised


def validate_tracking(body: Any) -> tuple[bool, str | None, list[dict[str, str]]]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    delivered = body.get("isDelivered")
    if not isinstance(delivered, bool):
        raise bad_request("isDelivered is required and must be a boolean")
    if "deliveredDate" not in body:
        # The OpenAPI file marks deliveredDate required (nullable); send null when not delivered.
        raise bad_request("deliveredDate is required (use null when the package is not delivered yet)")
    delivered_date = body["deliveredDate"]
    if delivered_date is not None and (
        not isinstance(delivered_date, str) or not _DELIVERED_DATE.match(delivered_date)
    ):
        raise bad_request("deliveredDate must use the format 'yyyy-mm-dd hh:mm' (e.g. '2022-10-01 21:15')")
    events = body.get("events")
    if not isinstance(events, list):
        raise bad_request("events is required and must be a list")
    checked: list[dict[str, str]] = []
    for position, event in enumerate(events):
        where = f"events[{position}]"
        if not isinstance(event, dict):
            raise bad_request(f"{where} must be an object")
        for key in ("city", "state", "description", "date"):
            if not isinstance(event.get(key), str):
                raise bad_request(f"{where}.{key} is required and must be a string")
        if len(event["description"]) > 5000:
            raise bad_request(f"{where}.description is longer than 5000 characters")
        if not _DATE_PREFIX.match(event["date"]):
            raise bad_request(f"{where}.date must be an international date, yyyy-mm-dd")
        checked.append({k: event[k] for k in ("city", "state", "description", "date")})
    return delivered, delivered_date, checked


def query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1]
    if not _DIGITS.match(raw) or int(raw) < 1:
        raise bad_request(f"Query parameter {name} must be a positive integer")
    return int(raw)
