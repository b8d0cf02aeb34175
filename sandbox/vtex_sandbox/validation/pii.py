"""The PII data architecture's request contracts (``/api/orders/...``), as VTEX documents them.

Written from ``VTEX - Orders API PII version.json`` (operations InvoiceNotification2, ListOrders2,
CancelOrder2), never from the standard file. The PII invoice differs from the standard one in every
detail a client can get wrong: ``issuedDate`` is a day (``YYYY-MM-DD``), ``invoiceValue`` an integer,
items are named by ``itemIndex`` (their position in the order) and ``price`` is the TOTAL of the line.
Property names are matched without regard to case, as VTEX's .NET readers do (``common.canonical_keys``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtex_sandbox.errors import bad_request
from vtex_sandbox.model import InvoiceLine, InvoiceNotice
from vtex_sandbox.validation.common import (
    canonical_keys,
    check_page_cap,
    is_int,
    is_text,
    optional_int,
    optional_text,
    order_by_ascending,
    parse_creation_range,
    parse_date,
    refuse_foreign_fields,
    require_object,
)
from vtex_sandbox.validation.lines import check_line

if TYPE_CHECKING:
    from vtex_sandbox.model import Order

INVOICE_ROUTE = "the PII route POST /api/orders/pvt/document/{orderId}/invoices"
_STANDARD_INVOICE_ROUTE = "the standard route POST /api/oms/pvt/orders/{orderId}/invoice"
_FOREIGN_INVOICE_FIELDS = {
    "issuanceDate": _STANDARD_INVOICE_ROUTE + " (here: issuedDate, YYYY-MM-DD)",
    "embeddedInvoice": _STANDARD_INVOICE_ROUTE,
    "dispatchedDate": _STANDARD_INVOICE_ROUTE,
}
_FOREIGN_ITEM_FIELDS = {
    "id": _STANDARD_INVOICE_ROUTE + " (here: itemIndex, the item's position in the order)",
    "description": _STANDARD_INVOICE_ROUTE,
}
_NULLABLE_TEXT = ("invoiceKey", "invoiceUrl", "courier", "trackingNumber", "trackingUrl")
_INVOICE_FIELDS = (
    "type",
    "issuedDate",
    "invoiceNumber",
    "invoiceValue",
    "cfop",
    "extraValue",
    "volumes",
    "items",
    *_NULLABLE_TEXT,
    *_FOREIGN_INVOICE_FIELDS,
)
_ITEM_FIELDS = ("itemIndex", "price", "quantity", *_FOREIGN_ITEM_FIELDS)

#: The documented filters of ``POST /api/orders/extendsearch/orders`` and their JSON types.
_LIST_FILTERS: dict[str, type] = {
    "f_status": str,
    "f_creationDate": str,
    "incompleteOrders": bool,
    "filterError": str,
    "per_page": int,
    "page": int,
    "orderBy": str,
    "q": str,
    "sku_Ids": str,
    "listId": str,
    "f_authorizedDate": str,
    "f_paymentNames": str,
    "paymentId": str,
    "pci_tid": str,
    "nsu": str,
    "f_hasInputInvoice": bool,
    "f_hasOutputInvoice": bool,
    "f_invoicedDate": str,
    "f_shippingEstimate": str,
    "f_sellerNames": str,
    "f_affiliateId": str,
    "f_callCenterOperatorName": str,
    "f_isInstore": bool,
    "f_RnB": str,
    "salesChannelId": str,
    "f_salesChannel": str,
}
_FILTER_ERRORS = ("all", "temp", "perm")
_TYPE_NAMES = {str: "a string", bool: "a boolean (true or false)", int: "an integer"}


def validate_invoice(body: Any, order: Order) -> InvoiceNotice:
    """Check an invoice notification body against the PII contract; raise a 400 otherwise."""
    body = canonical_keys(require_object(body), _INVOICE_FIELDS)
    refuse_foreign_fields(body, _FOREIGN_INVOICE_FIELDS, "", INVOICE_ROUTE)
    kind = body.get("type")
    if kind not in ("Output", "Input"):
        raise bad_request("Invalid invoice type: 'type' must be 'Output' or 'Input' (case-sensitive)")
    issued = parse_date(body.get("issuedDate"))
    if issued is None:
        raise bad_request(
            "issuedDate is required: the day the invoice was issued, in the format YYYY-MM-DD "
            f"(e.g. 2024-09-20); got {body.get('issuedDate')!r}"
        )
    number = body.get("invoiceNumber")
    if not isinstance(number, str) or not is_text(number):
        raise bad_request("invoiceNumber is required and cannot be empty")
    value = body.get("invoiceValue")
    if not is_int(value):
        raise bad_request(
            f"invoiceValue is required and must be an INTEGER in cents on {INVOICE_ROUTE} "
            f"(e.g. 2499 for 24.99; the string form belongs to {_STANDARD_INVOICE_ROUTE}); got {value!r}"
        )
    if value <= 0:
        raise bad_request("invoiceValue must be greater than 0")
    texts = {key: optional_text(body, key) for key in _NULLABLE_TEXT}
    cfop = optional_text(body, "cfop", nullable=False)
    extra_value = _optional_int_not_null(body, "extraValue")
    volumes = _optional_int_not_null(body, "volumes")
    return InvoiceNotice(
        kind=kind,
        number=number,
        value=value,
        issuance_date=issued,
        lines=_invoice_lines(body.get("items"), order),
        invoice_key=texts["invoiceKey"],
        invoice_url=texts["invoiceUrl"],
        courier=texts["courier"],
        tracking_number=texts["trackingNumber"],
        tracking_url=texts["trackingUrl"],
        cfop=cfop,
        extra_value=extra_value,
        volumes=volumes,
    )


def _optional_int_not_null(body: dict[str, Any], key: str) -> int | None:
    if key in body and body[key] is None:
        raise bad_request(f"{key} must be an integer (null is not allowed here; leave the key out instead)")
    return optional_int(body, key)


def _invoice_lines(raw_items: Any, order: Order) -> tuple[InvoiceLine, ...]:
    if not isinstance(raw_items, list) or not raw_items:
        raise bad_request("items is required: the list of invoiced items cannot be empty")
    lines: list[InvoiceLine] = []
    for position, raw in enumerate(raw_items):
        where = f"items[{position}]."
        item = canonical_keys(require_object(raw, f"items[{position}]"), _ITEM_FIELDS, where)
        refuse_foreign_fields(item, _FOREIGN_ITEM_FIELDS, where, INVOICE_ROUTE)
        index = item.get("itemIndex")
        if not is_int(index):
            raise bad_request(
                f"{where}itemIndex is required: the item's position in the order (0, 1, ...), an integer"
            )
        if not 0 <= index < len(order.items):
            raise bad_request(
                f"{where}itemIndex {index} is not a position in order {order.order_id}, which has "
                f"{len(order.items)} item(s) (0 to {len(order.items) - 1})"
            )
        price, quantity = item.get("price"), item.get("quantity")
        if not is_int(price) or price < 0:
            raise bad_request(
                f"{where}price is required: the TOTAL price of the line in cents, an integer >= 0"
            )
        if not is_int(quantity) or quantity <= 0:
            raise bad_request(f"{where}quantity is required: an integer greater than 0")
        check_line(order, index, price, quantity, where, unit_price=False)
        unit = price // quantity
        lines.append(InvoiceLine(index, order.items[index].sku, quantity, unit, price))
    return tuple(lines)


def validate_list_filters(body: Any) -> dict[str, Any]:
    """The body of ``POST /api/orders/extendsearch/orders`` (every filter optional; none = all orders)."""
    if body is None:
        return {}
    body = canonical_keys(require_object(body), _LIST_FILTERS)
    for key, kind in _LIST_FILTERS.items():
        if key not in body:
            continue
        value = body[key]
        fits = is_int(value) if kind is int else isinstance(value, kind)
        if not fits:
            raise bad_request(f"{key} must be {_TYPE_NAMES[kind]}")
    for key in ("page", "per_page"):
        if key in body and body[key] < 1:
            raise bad_request(f"{key} must be a positive integer")
    if "filterError" in body and body["filterError"] not in _FILTER_ERRORS:
        raise bad_request(f"filterError must be one of {list(_FILTER_ERRORS)}")
    check_page_cap(body.get("page", 1))
    return dict(body)


def list_options(filters: dict[str, Any]) -> dict[str, Any]:
    """The search's filters the sandbox plays beyond paging and status (as the standard list's)."""
    options: dict[str, Any] = {
        "incomplete": filters.get("incompleteOrders") is True,
        "ascending": order_by_ascending(filters.get("orderBy")),
    }
    if filters.get("f_creationDate"):
        options["created"] = parse_creation_range(filters["f_creationDate"])
    return options
