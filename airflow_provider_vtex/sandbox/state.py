"""The sandbox's memory: orders, invoice packages, receipts and the request log.

Everything VTEX would decide about a request body lives here, written from VTEX's documentation
(the Orders API OpenAPI file and the help center), *not* from the provider's own models: the sandbox
must be able to disagree with the client, otherwise it could never catch the client's mistakes.

All public methods are thread-safe (the HTTP server is threaded). Times are wall-clock ISO 8601
strings in VTEX's style (offset, 7 fractional digits); the eventual-consistency delay uses
``time.monotonic`` so it is immune to clock changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeGuard

# --------------------------------------------------------------------------------------------------
# Errors, as VTEX writes them: {"error": {"code", "message", "exception": null}}.
#
# Documented by VTEX: code "1" / "Unauthorized access" (401) and OMS003 (wrong workflow status).
# Seen in public integration code: OMS007 "Order Not Found". The message "Invoice Not Found" is quoted
# in VTEX known issue 631970, but its code is not: OMS010 is invented. VTEX documents no 4xx at all
# for the invoice/tracking routes, so every validation code and message below marked "invented" is
# the sandbox's own plausible choice; clients should branch on the HTTP status, never on these codes.
# --------------------------------------------------------------------------------------------------

CODE_UNAUTHORIZED = "1"  # documented (401 example in the OpenAPI file)
CODE_FORBIDDEN = "403"  # invented: VTEX documents the 403 status but no body
CODE_ORDER_NOT_FOUND = "OMS007"  # seen in public integration code
CODE_INVOICE_NOT_FOUND = "OMS010"  # invented code; message from known issue 631970
CODE_WRONG_STATUS = "OMS003"  # documented for start-handling; reused for invoicing a canceled order
CODE_INVALID_REQUEST = "OMS001"  # invented: any malformed body or query
CODE_INVOICE_TOO_HIGH = "OMS009"  # invented: Output invoices would exceed the order value
CODE_NO_TRACKING_NUMBER = "OMS011"  # invented: PUT tracking before a tracking number exists
CODE_UNSUPPORTED_MEDIA = "OMS415"  # invented: body without Content-Type: application/json
CODE_ROUTE_NOT_FOUND = "404"  # invented: VTEX's answer to unknown routes is undocumented


class SandboxError(Exception):
    """An error answer: HTTP status plus VTEX's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, Any]:
    """VTEX's error envelope."""
    return {"error": {"code": code, "message": message, "exception": None}}


def _bad_request(message: str) -> SandboxError:
    return SandboxError(400, CODE_INVALID_REQUEST, message)


def order_not_found() -> SandboxError:
    return SandboxError(404, CODE_ORDER_NOT_FOUND, "Order Not Found")


def invoice_not_found() -> SandboxError:
    return SandboxError(404, CODE_INVOICE_NOT_FOUND, "Invoice Not Found")


# --------------------------------------------------------------------------------------------------
# Time and identifiers
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------

STATUS_DESCRIPTIONS: dict[str, str] = {
    # VTEX shows the store's locale; the sandbox plays a Brazilian store, as VTEX's own examples do.
    "waiting-for-sellers-confirmation": "Aguardando confirmação do seller",
    "payment-pending": "Pagamento Pendente",
    "payment-approved": "Pagamento Aprovado",
    "ready-for-handling": "Pronto para o manuseio",
    "handling": "Preparando Entrega",
    "invoiced": "Faturado",
    "canceled": "Cancelado",
}

#: License Manager resources (any one of them is enough) per sandbox route.
ROUTE_RESOURCES: dict[str, tuple[str, ...]] = {
    "invoice": ("Notify invoice",),
    "tracking_number": ("Notify invoice",),
    "tracking_status": ("Notify invoice",),
    "get_order": ("View order", "Orders Full Access"),
    "list_orders": ("View order", "Orders Full Access"),
}
#: Return (Input) invoices are covered by "Notify refund" too.
REFUND_RESOURCES: tuple[str, ...] = ("Notify refund", "Notify invoice")

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

DEFAULT_SEED_FILE = Path(__file__).with_name("seed_orders.json")
#: Receipt history kept per invoice: enough for any test, bounded for a load test re-sending one invoice.
MAX_RECEIPT_HISTORY = 10_000


def load_seed(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read order definitions (a JSON list, or ``{"orders": [...]}``) from ``path``."""
    with open(path or DEFAULT_SEED_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict) and isinstance(data.get("orders"), list):
        data = data["orders"]
    if not isinstance(data, list):
        raise ValueError(f"seed file {path} must hold a JSON list of orders")
    return data


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


@dataclass
class _Package:
    """An invoice as OMS stores it, plus the sandbox's own history of the calls that touched it."""

    data: dict[str, Any]
    visible_at: float
    receipt: str
    receipts: list[dict[str, str]] = field(default_factory=list)
    tracking_receipts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Order:
    order_id: str
    sequence: str
    status: str
    value: int
    items: list[dict[str, Any]]
    creation_date: str
    last_change: str
    client_name: str
    shipping_value: int
    invoiced_date: str | None = None
    invoiced_visible_at: float | None = None
    status_before_invoiced: str | None = None
    packages: dict[str, _Package] = field(default_factory=dict)


def _build_order(definition: Any, sequence: int) -> _Order:
    """Turn a seed/``add_order`` definition into an order, refusing anything VTEX could not hold."""
    if not isinstance(definition, dict):
        raise ValueError("an order definition must be an object")
    order_id = definition.get("orderId")
    if not _is_text(order_id):
        raise ValueError("orderId must be a non-empty string")
    assert isinstance(order_id, str)
    raw_items = definition.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ValueError(f"order {order_id}: items must be a non-empty list")
    status = definition.get("status", "ready-for-handling")
    if status not in STATUS_DESCRIPTIONS:
        raise ValueError(f"order {order_id}: unknown status {status!r}")
    items: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise ValueError(f"order {order_id}: item {index} must be an object")
        sku = raw.get("id")
        if _is_int(sku):
            sku = str(sku)
        if not _is_text(sku):
            raise ValueError(f"order {order_id}: item {index} needs a SKU id")
        quantity, price = raw.get("quantity", 1), raw.get("price")
        if not _is_int(quantity) or quantity <= 0:
            raise ValueError(f"order {order_id}: item {index} quantity must be a positive integer")
        if not _is_int(price) or price < 0:
            raise ValueError(f"order {order_id}: item {index} price must be integer cents >= 0")
        name = str(raw.get("name") or f"SKU {sku}")
        digest = hashlib.sha256(f"{order_id}/{index}/{sku}".encode()).hexdigest()[:32].upper()
        selling_price = raw.get("sellingPrice", price)
        items.append(
            {
                "uniqueId": digest,
                "id": sku,
                "productId": str(raw.get("productId", sku)),
                "ean": raw.get("ean"),
                "lockId": f"00-{order_id.split('-')[0]}-01",
                "quantity": quantity,
                "seller": str(raw.get("seller", "1")),
                "name": name,
                "refId": raw.get("refId"),
                "price": price,
                "listPrice": raw.get("listPrice", price),
                "manualPrice": None,
                "priceTags": [],
                "imageUrl": raw.get("imageUrl"),
                "detailUrl": raw.get("detailUrl"),
                "sellerSku": sku,
                "measurementUnit": "un",
                "unitMultiplier": 1.0,
                "sellingPrice": selling_price,
                "isGift": False,
                "shippingPrice": None,
                "tax": 0,
                "priceDefinition": {
                    "sellingPrices": [{"value": selling_price, "quantity": quantity}],
                    "calculatedSellingPrice": selling_price,
                    "total": selling_price * quantity,
                    "reason": None,
                },
            }
        )
    items_total = sum(i["price"] * i["quantity"] for i in items)
    shipping = definition.get("shippingValue", 0)
    if not _is_int(shipping) or shipping < 0:
        raise ValueError(f"order {order_id}: shippingValue must be integer cents >= 0")
    value = definition.get("value")
    if value is None:
        value = items_total + shipping
    elif not _is_int(value) or value <= 0:
        raise ValueError(f"order {order_id}: value must be integer cents > 0")
    else:
        shipping = max(value - items_total, 0)
    creation = definition.get("creationDate") or vtex_now()
    order = _Order(
        order_id=order_id,
        sequence=str(definition.get("sequence", sequence)),
        status=status,
        value=value,
        items=items,
        creation_date=str(creation),
        last_change=str(definition.get("lastChange", creation)),
        client_name=str(definition.get("clientName", "Sandbox Customer")),
        shipping_value=shipping,
    )
    if status == "invoiced":
        order.invoiced_date = str(definition.get("invoicedDate") or creation)
    return order


# --------------------------------------------------------------------------------------------------
# Request log
# --------------------------------------------------------------------------------------------------


class RequestLog:
    """Bounded, thread-safe log of the VTEX calls the sandbox received.

    Bounded because a long-running CLI sandbox under a load test must not grow without limit. The
    server scrubs the AppToken before an entry gets here; this class never sees a secret.
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._next_id = 1

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["id"] = self._next_id
            self._next_id += 1
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        order_id: str | None = None,
        status: int | str | None = None,
        invoice_number: str | None = None,
    ) -> int:
        """How many logged requests match every given filter (``None`` = any)."""
        wanted = {
            "method": method.upper() if method else None,
            "route": route,
            "orderId": order_id,
            "status": status,
            "invoiceNumber": invoice_number,
        }
        filters = [(k, v) for k, v in wanted.items() if v is not None]
        with self._lock:
            return sum(1 for e in self._entries if all(e.get(k) == v for k, v in filters))


# --------------------------------------------------------------------------------------------------
# The OMS state machine
# --------------------------------------------------------------------------------------------------


class SandboxState:
    """Orders and their invoices, mutated only under one lock.

    ``invoice_visibility_delay`` plays OMS's eventual consistency: a new package (and the ``invoiced``
    status it may cause) shows in GET order / list orders only that many seconds after the 200. The
    write side is immediately consistent, like VTEX's: a PATCH right after the POST finds the invoice.
    """

    def __init__(
        self,
        definitions: list[dict[str, Any]] | None = None,
        invoice_visibility_delay: float = 0.0,
        auto_create_orders: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        #: Create an unknown order from its first invoice (items and value taken from the invoice):
        #: a stand-in for a store with more orders than anyone wants to seed (bulk demos, benchmarks).
        self.auto_create_orders = auto_create_orders
        self._definitions: list[dict[str, Any]] = copy.deepcopy(definitions or [])
        self.invoice_visibility_delay = float(invoice_visibility_delay)
        self._orders: dict[str, _Order] = {}
        self._sequence = 502556
        self.reset()

    # -- set-up ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial orders: no invoices, no orders added later."""
        with self._lock:
            self._orders = {}
            self._sequence = 502556
            for definition in self._definitions:
                self._add(definition)

    def add_order(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Create (or replace) an order; returns it as GET order shows it."""
        with self._lock:
            order = self._add(definition)
            return self._render(order, time.monotonic(), hide_recent=False)

    def _add(self, definition: dict[str, Any]) -> _Order:
        self._sequence += 1
        order = _build_order(definition, self._sequence)
        self._orders[order.order_id] = order
        return order

    def _order_from_invoice(self, order_id: str, body: Any) -> _Order | None:
        """An order shaped by its first invoice; None when the body is too broken to shape one."""
        items = body.get("items") if isinstance(body, dict) else None
        value = body.get("invoiceValue") if isinstance(body, dict) else None
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(i, dict) and "id" in i for i in items)
        ):
            return None
        try:
            definition = {
                "orderId": order_id,
                "items": [
                    {"id": i["id"], "price": i.get("price"), "quantity": i.get("quantity", 1)} for i in items
                ],
                "value": int(value) if isinstance(value, int | str) else None,
            }
            return self._add({k: v for k, v in definition.items() if v is not None})
        except ValueError:
            return None

    def set_status(self, order_id: str, status: str) -> None:
        """Move an order along VTEX's workflow (e.g. payment approved -> ``ready-for-handling``)."""
        if status not in STATUS_DESCRIPTIONS:
            raise ValueError(f"unknown order status {status!r}; known: {sorted(STATUS_DESCRIPTIONS)}")
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            order.status = status

    def order_ids(self) -> list[str]:
        with self._lock:
            return list(self._orders)

    # -- reads -------------------------------------------------------------------------------------

    def get_order(self, order_id: str, *, consistent: bool = False) -> dict[str, Any]:
        """The order as GET order answers; ``consistent=True`` ignores the visibility delay.

        Like VTEX, ``seq{sequence}`` (e.g. ``seq502557``) also finds an order.
        """
        with self._lock:
            order = self._orders.get(order_id)
            if order is None and order_id.startswith("seq"):
                order = next((o for o in self._orders.values() if o.sequence == order_id[3:]), None)
            if order is None:
                raise order_not_found()
            return self._render(order, time.monotonic(), hide_recent=not consistent)

    def list_orders(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """``GET /api/oms/pvt/orders``: newest first, ``page``/``per_page``/``f_status`` honoured."""
        page = _query_int(query, "page", 1)
        per_page = min(_query_int(query, "per_page", 15), 100)  # VTEX caps per_page at 100
        statuses = {s for raw in query.get("f_status", []) for s in raw.split(",") if s}
        now = time.monotonic()
        with self._lock:
            rendered = [self._render(o, now, hide_recent=True) for o in self._orders.values()]
        if statuses:
            rendered = [o for o in rendered if o["status"] in statuses]
        rendered.sort(key=lambda o: o["creationDate"], reverse=True)
        total = len(rendered)
        start = (page - 1) * per_page
        summaries = [_list_summary(o) for o in rendered[start : start + per_page]]
        values = [o["value"] for o in rendered]
        counts = [sum(i["quantity"] for i in o["items"]) for o in rendered]
        return {
            "list": summaries,
            "facets": [],
            "paging": {
                "total": total,
                "pages": (total + per_page - 1) // per_page,
                "currentPage": page,
                "perPage": per_page,
            },
            "stats": {"stats": {"totalValue": _stats(values), "totalItems": _stats(counts)}},
        }

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """Every package of the order (visible or not) with the sandbox's receipt history."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return [_package_view(p) for p in order.packages.values()]

    def summary(self) -> dict[str, Any]:
        """Compact, printable state of every order (ignores the visibility delay)."""
        with self._lock:
            out: dict[str, Any] = {}
            for order in self._orders.values():
                out[order.order_id] = {
                    "status": order.status,
                    "statusDescription": STATUS_DESCRIPTIONS[order.status],
                    "value": order.value,
                    "invoicedDate": order.invoiced_date,
                    "invoices": [_invoice_summary(p) for p in order.packages.values()],
                }
            return out

    # -- writes ------------------------------------------------------------------------------------

    def invoice(self, order_id: str, body: Any) -> dict[str, str]:
        """``POST .../invoice``: validate as VTEX does, then record (or re-receipt) the package."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None and self.auto_create_orders:
                order = self._order_from_invoice(order_id, body)
            if order is None:
                raise order_not_found()
            payload = _validate_invoice(body, order)
            if order.status == "canceled":
                raise SandboxError(
                    400, CODE_WRONG_STATUS, "Order status should not be canceled to perform this action"
                )
            number = payload["invoiceNumber"]
            now_iso, receipt = vtex_now(), new_receipt()
            existing = order.packages.get(number)
            if existing is not None:
                # VTEX: "a new receipt code is generated, and it overrides the previous one ... you
                # cannot change other information, only the receipt code."
                existing.receipt = receipt
                existing.receipts.append({"receipt": receipt, "date": now_iso})
                del existing.receipts[:-MAX_RECEIPT_HISTORY]
            else:
                if payload["type"] == "Output":
                    already = sum(
                        p.data["invoiceValue"] for p in order.packages.values() if p.data["type"] == "Output"
                    )
                    if already + payload["invoiceValue"] > order.value:
                        # Implied by VTEX known issue 1348894 (over-value invoices are a bug when they
                        # get through); the message is invented.
                        raise SandboxError(
                            400,
                            CODE_INVOICE_TOO_HIGH,
                            f"Invoice value {payload['invoiceValue']} plus already invoiced {already} "
                            f"exceeds the order value {order.value}",
                        )
                visible_at = time.monotonic() + self.invoice_visibility_delay
                package = _Package(
                    data=_new_package(payload, order),
                    visible_at=visible_at,
                    receipt=receipt,
                    receipts=[{"receipt": receipt, "date": now_iso}],
                )
                order.packages[number] = package
                self._maybe_invoiced(order, now_iso, visible_at)
            order.last_change = now_iso
            return {"date": now_iso, "orderId": order_id, "receipt": receipt}

    def tracking_number(self, order_id: str, invoice_number: str, body: Any) -> dict[str, str]:
        """``PATCH .../invoice/{invoiceNumber}``: attach tracking number, URL, courier, dispatch date."""
        with self._lock:
            package = self._package(order_id, invoice_number)
            if not isinstance(body, dict):
                raise _bad_request("The request body must be a JSON object")
            if not _is_text(body.get("trackingNumber")):
                raise _bad_request("trackingNumber is required and cannot be empty")
            for key in ("trackingUrl", "courier", "dispatchedDate"):
                if key in body and body[key] is not None and not isinstance(body[key], str):
                    raise _bad_request(f"{key} must be a string or null")
            package.data["trackingNumber"] = body["trackingNumber"]
            for key in ("trackingUrl", "courier", "dispatchedDate"):
                if key in body:
                    package.data[key] = body[key]
            return self._tracking_receipt(order_id, package, "tracking_number")

    def tracking_status(self, order_id: str, invoice_number: str, body: Any) -> dict[str, str]:
        """``PUT .../invoice/{invoiceNumber}/tracking``: tracking events and the delivered flag."""
        with self._lock:
            package = self._package(order_id, invoice_number)
            if not _is_text(package.data.get("trackingNumber")):
                raise _bad_request(
                    "The invoice has no tracking number: send the tracking number first (PATCH)"
                )
            delivered, delivered_date, events = _validate_tracking(body)
            now_iso = vtex_now()
            package.data["courierStatus"] = {
                "status": "ok",
                "finished": delivered,
                "deliveredDate": delivered_date,
                "data": [
                    {
                        "lastChange": now_iso,
                        "city": e["city"],
                        "state": e["state"],
                        "description": e["description"],
                        "createDate": e["date"],
                    }
                    for e in events
                ],
            }
            return self._tracking_receipt(order_id, package, "tracking_status")

    # -- helpers -----------------------------------------------------------------------------------

    def _package(self, order_id: str, invoice_number: str) -> _Package:
        order = self._orders.get(order_id)
        if order is None:
            raise order_not_found()
        package = order.packages.get(invoice_number)
        if package is None:
            raise invoice_not_found()
        return package

    def _tracking_receipt(self, order_id: str, package: _Package, operation: str) -> dict[str, str]:
        now_iso, receipt = vtex_now(), new_receipt()
        package.tracking_receipts.append({"operation": operation, "receipt": receipt, "date": now_iso})
        del package.tracking_receipts[:-MAX_RECEIPT_HISTORY]
        self._orders[order_id].last_change = now_iso
        return {"date": now_iso, "orderId": order_id, "receipt": receipt}

    @staticmethod
    def _maybe_invoiced(order: _Order, now_iso: str, visible_at: float) -> None:
        """Move to ``invoiced`` once the Output invoices reach the order value (VTEX's rule)."""
        if order.status in ("invoiced", "canceled"):
            return
        invoiced = sum(p.data["invoiceValue"] for p in order.packages.values() if p.data["type"] == "Output")
        if invoiced >= order.value:
            order.status_before_invoiced = order.status
            order.status = "invoiced"
            order.invoiced_date = now_iso
            order.invoiced_visible_at = visible_at

    def _render(self, order: _Order, now: float, *, hide_recent: bool) -> dict[str, Any]:
        """The order in GET order's shape, as a fresh copy the caller may keep."""
        status, invoiced_date = order.status, order.invoiced_date
        if (
            hide_recent
            and order.invoiced_visible_at is not None
            and now < order.invoiced_visible_at
            and order.status_before_invoiced is not None
        ):
            status, invoiced_date = order.status_before_invoiced, None
        packages = [
            copy.deepcopy(p.data) for p in order.packages.values() if not hide_recent or now >= p.visible_at
        ]
        items_total = sum(i["price"] * i["quantity"] for i in order.items)
        return {
            "orderId": order.order_id,
            "sequence": order.sequence,
            "marketplaceOrderId": "",
            "sellerOrderId": f"00-{order.order_id}",
            "origin": "Marketplace",
            "affiliateId": "",
            "salesChannel": "1",
            "merchantName": None,
            "status": status,
            "workflowIsInError": False,
            "statusDescription": STATUS_DESCRIPTIONS[status],
            "value": order.value,
            "creationDate": order.creation_date,
            "lastChange": order.last_change,
            "orderGroup": order.order_id.split("-")[0],
            "totals": [
                {"id": "Items", "name": "Total dos Itens", "value": items_total},
                {"id": "Discounts", "name": "Total dos Descontos", "value": 0},
                {"id": "Shipping", "name": "Total do Frete", "value": order.shipping_value},
                {"id": "Tax", "name": "Total da Taxa", "value": 0},
            ],
            "items": copy.deepcopy(order.items),
            "clientProfileData": {"firstName": order.client_name, "email": None},
            "hostname": "sandbox",
            "isCompleted": True,
            "roundingError": 0,
            "allowCancellation": status not in ("invoiced", "canceled") and not packages,
            "allowEdition": False,
            "isCheckedIn": False,
            "authorizedDate": order.creation_date,
            "invoicedDate": invoiced_date,
            "cancelReason": None,
            "packageAttachment": {"packages": packages},
            "storePreferencesData": {"countryCode": "BRA", "currencyCode": "BRL", "currencySymbol": "R$"},
        }


# --------------------------------------------------------------------------------------------------
# Validation "as VTEX does"
# --------------------------------------------------------------------------------------------------


def _validate_invoice(body: Any, order: _Order) -> dict[str, Any]:
    """Check an invoice notification body; returns the normalised payload or raises a 400."""
    if not isinstance(body, dict):
        raise _bad_request("The request body must be a JSON object")
    kind = body.get("type")
    if kind not in ("Output", "Input"):
        raise _bad_request("Invalid invoice type: 'type' must be 'Output' or 'Input' (case-sensitive)")
    number = body.get("invoiceNumber")
    if not _is_text(number):
        raise _bad_request("invoiceNumber is required and cannot be empty")
    raw_value = body.get("invoiceValue")
    if _is_int(raw_value):
        value = raw_value
    elif isinstance(raw_value, str) and _DIGITS.match(raw_value):
        value = int(raw_value)
    else:
        raise _bad_request(
            "invoiceValue is required and must be the total in cents, as an integer or a string of "
            'digits without decimal separator (e.g. "2499" for 24.99)'
        )
    assert isinstance(value, int)
    if value <= 0:
        raise _bad_request("invoiceValue must be greater than 0")
    issuance = body.get("issuanceDate", body.get("issuedDate"))
    if not _is_text(issuance):
        raise _bad_request("issuanceDate is required (date and time of the invoice)")
    assert isinstance(issuance, str)
    if not _DATE_PREFIX.match(issuance):
        raise _bad_request("issuanceDate must be an ISO 8601 date and time, e.g. 2024-01-31T18:25:43-05:00")
    for key in _OPTIONAL_TEXT_FIELDS:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise _bad_request(f"{key} must be a string or null")
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise _bad_request("items is required: the list of invoiced items cannot be empty")
    items: list[dict[str, Any]] = []
    sku_index: dict[str, int] = {}
    for index, item in enumerate(order.items):
        sku_index.setdefault(item["id"], index)
    for position, item in enumerate(raw_items):
        where = f"items[{position}]"
        if not isinstance(item, dict):
            raise _bad_request(f"{where} must be an object")
        price, quantity = item.get("price"), item.get("quantity")
        if not _is_int(price) or price < 0:
            raise _bad_request(f"{where}.price is required: the unit price in cents, an integer >= 0")
        if not _is_int(quantity) or quantity <= 0:
            raise _bad_request(f"{where}.quantity is required: an integer greater than 0")
        if item.get("id") is not None:
            sku = str(item["id"]) if _is_int(item["id"]) else item["id"]
            if not isinstance(sku, str) or sku not in sku_index:
                raise _bad_request(f"{where}.id {item['id']!r} is not a SKU of order {order.order_id}")
            item_index = sku_index[sku]
        elif item.get("itemIndex") is not None:
            item_index = item["itemIndex"]
            if not _is_int(item_index) or not 0 <= item_index < len(order.items):
                raise _bad_request(f"{where}.itemIndex {item_index!r} is not a position in the order items")
        else:
            raise _bad_request(f"{where} needs the SKU 'id' (or 'itemIndex')")
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise _bad_request(f"{where}.description must be a string")
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


def _validate_tracking(body: Any) -> tuple[bool, str | None, list[dict[str, str]]]:
    if not isinstance(body, dict):
        raise _bad_request("The request body must be a JSON object")
    delivered = body.get("isDelivered")
    if not isinstance(delivered, bool):
        raise _bad_request("isDelivered is required and must be a boolean")
    if "deliveredDate" not in body:
        # The OpenAPI file marks deliveredDate required (nullable); send null when not delivered.
        raise _bad_request("deliveredDate is required (use null when the package is not delivered yet)")
    delivered_date = body["deliveredDate"]
    if delivered_date is not None and (
        not isinstance(delivered_date, str) or not _DELIVERED_DATE.match(delivered_date)
    ):
        raise _bad_request("deliveredDate must use the format 'yyyy-mm-dd hh:mm' (e.g. '2022-10-01 21:15')")
    events = body.get("events")
    if not isinstance(events, list):
        raise _bad_request("events is required and must be a list")
    checked: list[dict[str, str]] = []
    for position, event in enumerate(events):
        where = f"events[{position}]"
        if not isinstance(event, dict):
            raise _bad_request(f"{where} must be an object")
        for key in ("city", "state", "description", "date"):
            if not isinstance(event.get(key), str):
                raise _bad_request(f"{where}.{key} is required and must be a string")
        if len(event["description"]) > 5000:
            raise _bad_request(f"{where}.description is longer than 5000 characters")
        if not _DATE_PREFIX.match(event["date"]):
            raise _bad_request(f"{where}.date must be an international date, yyyy-mm-dd")
        checked.append({k: event[k] for k in ("city", "state", "description", "date")})
    return delivered, delivered_date, checked


def _new_package(payload: dict[str, Any], order: _Order) -> dict[str, Any]:
    """GET order's package shape: integer ``invoiceValue``, items by ``itemIndex``."""
    items = [
        {
            "itemIndex": i["itemIndex"],
            "quantity": i["quantity"],
            "price": i["price"],
            "description": i["description"],
            "unitMultiplier": 1.0,
        }
        for i in payload["items"]
    ]
    restitutions: dict[str, Any] = {}
    if payload["type"] == "Input":
        restitutions = {
            "Refund": {
                "value": payload["invoiceValue"],
                "giftCardData": None,
                "items": [
                    {
                        "useFreight": False,
                        "isCompensation": False,
                        "compensationValue": 0,
                        "id": i["id"],
                        "quantity": i["quantity"],
                        "price": i["price"],
                        "description": i["description"],
                    }
                    for i in payload["items"]
                ],
            }
        }
    return {
        "items": items,
        "courier": payload.get("courier"),
        "invoiceNumber": payload["invoiceNumber"],
        "invoiceValue": payload["invoiceValue"],
        "invoiceUrl": payload.get("invoiceUrl"),
        "issuanceDate": payload["issuanceDate"],
        "trackingNumber": payload.get("trackingNumber"),
        "invoiceKey": payload.get("invoiceKey"),
        "trackingUrl": payload.get("trackingUrl"),
        "embeddedInvoice": payload.get("embeddedInvoice"),
        "type": payload["type"],
        "courierStatus": None,
        "cfop": payload.get("cfop"),
        "restitutions": restitutions,
        "volumes": payload.get("volumes"),
        "dispatchedDate": payload.get("dispatchedDate"),
        "EnableInferItems": None,
    }


def _package_view(package: _Package) -> dict[str, Any]:
    view = copy.deepcopy(package.data)
    view["receipt"] = package.receipt
    view["receipts"] = copy.deepcopy(package.receipts)
    view["trackingReceipts"] = copy.deepcopy(package.tracking_receipts)
    return view


def _invoice_summary(package: _Package) -> dict[str, Any]:
    data = package.data
    courier_status = data.get("courierStatus")
    delivery = None
    if courier_status:
        delivery = {
            "isDelivered": courier_status["finished"],
            "deliveredDate": courier_status["deliveredDate"],
            "events": copy.deepcopy(courier_status["data"]),
        }
    return {
        "invoiceNumber": data["invoiceNumber"],
        "invoiceValue": data["invoiceValue"],
        "type": data["type"],
        "issuanceDate": data["issuanceDate"],
        "receipt": package.receipt,
        "receipts": [r["receipt"] for r in package.receipts],
        "tracking": {
            "trackingNumber": data.get("trackingNumber"),
            "trackingUrl": data.get("trackingUrl"),
            "courier": data.get("courier"),
            "dispatchedDate": data.get("dispatchedDate"),
        },
        "delivery": delivery,
        "trackingReceipts": copy.deepcopy(package.tracking_receipts),
    }


def _list_summary(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "orderId": order["orderId"],
        "creationDate": order["creationDate"],
        "clientName": order["clientProfileData"]["firstName"],
        "items": None,
        "totalValue": order["value"],
        "paymentNames": "Mastercard",
        "status": order["status"],
        "statusDescription": order["statusDescription"],
        "marketPlaceOrderId": None,
        "sequence": order["sequence"],
        "salesChannel": "1",
        "affiliateId": "",
        "origin": "Marketplace",
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": None,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": True,
        "listId": None,
        "listType": None,
        "authorizedDate": order["authorizedDate"],
        "callCenterOperatorName": None,
        "totalItems": sum(i["quantity"] for i in order["items"]),
        "currencyCode": "BRL",
    }


def _stats(values: list[int]) -> dict[str, Any]:
    count = len(values)
    total = sum(values)
    return {
        "Count": count,
        "Max": max(values, default=0),
        "Mean": total / count if count else 0,
        "Min": min(values, default=0),
        "Missing": 0,
        "Sum": total,
        "Facets": {},
    }


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    raw = values[-1]
    if not _DIGITS.match(raw) or int(raw) < 1:
        raise _bad_request(f"Query parameter {name} must be a positive integer")
    return int(raw)
