"""The invoice notification, one strict model per VTEX route set.

VTEX has two route sets with two contracts, and they must never be mixed:

* **standard** stores (``POST /api/oms/pvt/orders/{orderId}/invoice``, :class:`Invoice`): ``issuanceDate``
  with date, time and offset; ``invoiceValue`` a string of digits; items by SKU ``id``; an item's
  ``price`` is the UNIT price, which VTEX multiplies by ``quantity``.
* stores on VTEX's **PII data architecture** (``POST /api/orders/pvt/document/{orderId}/invoices``,
  :class:`PiiInvoice`, operation ``InvoiceNotification2``): ``issuedDate`` as ``YYYY-MM-DD``; integer
  ``invoiceValue``; items by integer ``itemIndex``; an item's ``price`` is the TOTAL price of the SKU
  line being invoiced; plus ``extraValue``, ``cfop`` and ``volumes``.

A key of the other contract is refused with a message naming the field to use instead, or the
connection setting (``data_architecture``) that selects the other route set.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PlainSerializer

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.types import (
    MAX_ITEMS,
    Cents,
    DateOnly,
    DateTimeWithOffset,
    EmbeddedDocument,
    InvoiceNumber,
    ItemIndex,
    NonEmptyText,
    PositiveCents,
    Quantity,
    Text,
    Volumes,
    at_most_items,
    json_list,
    non_empty,
)

DataArchitecture = Literal["standard", "pii"]

_TO_PII = "set the connection's data_architecture to 'pii' if this store is on VTEX's PII data architecture"
_TO_STANDARD = (
    "set the connection's data_architecture to 'standard' if this store uses VTEX's standard routes"
)


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def _both_spellings(messages: dict[str, str]) -> dict[str, str]:
    return {**messages, **{_snake(key): text for key, text in messages.items()}}


_TYPE_HINT = "add 'type': 'Output' (a sale) or 'Input' (a return)"
_NUMBER_HINT = "add the ERP's invoice number, e.g. 'invoiceNumber': 'NF-0001'"
_VALUE_HINT = "add the invoiced total in cents, e.g. 'invoiceValue': 2499"


# ------------------------------------------------------------------------------------------ standard
class InvoiceItem(VtexPayload):
    """One invoiced SKU line on the standard route. ``price`` is the UNIT price in cents; VTEX multiplies
    it by ``quantity``."""

    payload_name: ClassVar[str] = "invoice item"
    required_hints: ClassVar[dict[str, str]] = {
        "id": "add the SKU id of the order item, e.g. 'id': '123'",
        "price": "add the unit price in cents, e.g. 'price': 2499",
        "quantity": "add the invoiced quantity, e.g. 'quantity': 1",
    }
    foreign_keys: ClassVar[dict[str, str]] = _both_spellings(
        {
            "itemIndex": "belongs to VTEX's PII data architecture; on a standard account identify the item by "
            f"its SKU 'id', or {_TO_PII}",
        }
    )

    id: NonEmptyText = Field(description="SKU id of the order item being invoiced.")
    price: Cents = Field(description="UNIT price in cents (VTEX multiplies it by quantity).")
    quantity: Quantity
    description: Text | None = None


class Invoice(VtexPayload):
    """The invoice notification of the standard OMS route (``POST /api/oms/pvt/orders/{orderId}/invoice``).

    ``invoiceValue`` is kept as an integer and sent as VTEX's string of digits; ``issuanceDate`` is
    sent as written (a datetime as ISO 8601).
    """

    payload_name: ClassVar[str] = "invoice"
    required_hints: ClassVar[dict[str, str]] = {
        "type": _TYPE_HINT,
        "invoiceNumber": _NUMBER_HINT,
        "invoiceValue": _VALUE_HINT,
        "issuanceDate": "add the date and time the ERP issued the invoice, with its offset, e.g. "
        "'issuanceDate': '2024-01-31T18:25:43-03:00'",
        "items": "add the invoiced items, e.g. 'items': [{'id': '123', 'price': 2499, 'quantity': 1}]",
    }
    foreign_keys: ClassVar[dict[str, str]] = _both_spellings(
        {
            "issuedDate": "belongs to VTEX's PII data architecture; on a standard account send 'issuanceDate' "
            f"with date and time, e.g. '2024-01-31T18:25:43-03:00', or {_TO_PII}",
            "extraValue": f"belongs to VTEX's PII data architecture; the standard route has no extra value: "
            f"include it in 'invoiceValue', or {_TO_PII}",
            "cfop": f"belongs to VTEX's PII data architecture; the standard route does not take it, or {_TO_PII}",
            "volumes": f"belongs to VTEX's PII data architecture; the standard route does not take it, or {_TO_PII}",
        }
    )

    type: Literal["Output", "Input"]
    invoice_number: InvoiceNumber
    invoice_value: Annotated[PositiveCents, PlainSerializer(str, return_type=str)]
    issuance_date: DateTimeWithOffset
    items: Annotated[
        list[InvoiceItem],
        at_most_items(MAX_ITEMS, "item lines"),
        non_empty("[{'id': '123', 'price': 2499, 'quantity': 1}]"),
        json_list('[{"id": "123", "price": 2499, "quantity": 1}]'),
    ]
    invoice_key: Text | None = None
    invoice_url: Text | None = None
    embedded_invoice: EmbeddedDocument | None = None
    courier: Text | None = None
    tracking_number: Text | None = None
    tracking_url: Text | None = None
    dispatched_date: DateTimeWithOffset | None = None


# ------------------------------------------------------------------------------------------ PII
class PiiInvoiceItem(VtexPayload):
    """One invoiced SKU line on the PII route. ``price`` is the TOTAL price of the line (all units) in
    cents, not the unit price."""

    payload_name: ClassVar[str] = "invoice item"
    required_hints: ClassVar[dict[str, str]] = {
        "itemIndex": "add the item's position in the order's items, starting at 0, e.g. 'itemIndex': 0",
        "price": "add the total price of this SKU line in cents, e.g. 'price': 7497",
        "quantity": "add the invoiced quantity, e.g. 'quantity': 3",
    }
    foreign_keys: ClassVar[dict[str, str]] = _both_spellings(
        {
            "id": "belongs to VTEX's standard routes; on the PII data architecture identify the item by its "
            f"position 'itemIndex' (0, 1, ...), or {_TO_STANDARD}",
            "description": f"belongs to VTEX's standard routes; the PII route does not take it, or {_TO_STANDARD}",
        }
    )

    item_index: ItemIndex
    price: Cents = Field(description="TOTAL price of the SKU line in cents (not the unit price).")
    quantity: Quantity


class PiiInvoice(VtexPayload):
    """The invoice notification of VTEX's PII data architecture
    (``POST /api/orders/pvt/document/{orderId}/invoices``): integers stay integers on the wire, and
    digit strings (what Jinja renders) are sent as integers."""

    payload_name: ClassVar[str] = "invoice"
    required_hints: ClassVar[dict[str, str]] = {
        "type": _TYPE_HINT,
        "invoiceNumber": _NUMBER_HINT,
        "invoiceValue": _VALUE_HINT,
        "issuedDate": "add the issue date as YYYY-MM-DD, e.g. 'issuedDate': '2024-09-20'",
        "items": "add the invoiced items, e.g. 'items': [{'itemIndex': 0, 'price': 7497, 'quantity': 3}]",
    }
    foreign_keys: ClassVar[dict[str, str]] = _both_spellings(
        {
            "issuanceDate": "belongs to VTEX's standard routes; on the PII data architecture send 'issuedDate' "
            f"as YYYY-MM-DD, e.g. '2024-09-20', or {_TO_STANDARD}",
            "embeddedInvoice": f"belongs to VTEX's standard routes; the PII route does not take it, or {_TO_STANDARD}",
            "dispatchedDate": f"belongs to VTEX's standard routes; the PII route does not take it, or {_TO_STANDARD}",
        }
    )

    type: Literal["Output", "Input"]
    invoice_number: InvoiceNumber
    invoice_value: PositiveCents
    issued_date: DateOnly
    items: Annotated[
        list[PiiInvoiceItem],
        at_most_items(MAX_ITEMS, "item lines"),
        non_empty("[{'itemIndex': 0, 'price': 7497, 'quantity': 3}]"),
        json_list('[{"itemIndex": 0, "price": 7497, "quantity": 3}]'),
    ]
    extra_value: Cents | None = None
    invoice_key: Text | None = None
    invoice_url: Text | None = None
    courier: Text | None = None
    tracking_number: Text | None = None
    tracking_url: Text | None = None
    cfop: Text | None = None
    volumes: Volumes | None = None


#: The invoice contract of each data architecture.
INVOICE_MODELS: dict[str, type[Invoice] | type[PiiInvoice]] = {"standard": Invoice, "pii": PiiInvoice}

AnyInvoice = Invoice | PiiInvoice
