"""The OMS state machine: orders, their invoices and receipts, under one lock.

Everything VTEX would decide about a request lives here or in ``validation``, written from VTEX's
documentation (the Orders API OpenAPI files and the help center), *not* from the provider's own models:
the sandbox must be able to disagree with the client, otherwise it could never catch the client's
mistakes.

All public methods are thread-safe (the HTTP server is threaded). The eventual-consistency delay uses
``time.monotonic`` so it is immune to clock changes.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from airflow_provider_vtex.sandbox.clock import new_receipt, vtex_now
from airflow_provider_vtex.sandbox.errors import (
    CODE_INVOICE_TOO_HIGH,
    CODE_WRONG_STATUS,
    SandboxError,
    bad_request,
    invoice_not_found,
    order_not_found,
)
from airflow_provider_vtex.sandbox.model import MAX_RECEIPT_HISTORY, STATUS_DESCRIPTIONS, Order, Package
from airflow_provider_vtex.sandbox.seed import build_order
from airflow_provider_vtex.sandbox.validation.common import is_text
from airflow_provider_vtex.sandbox.validation.standard import query_int, validate_invoice, validate_tracking
from airflow_provider_vtex.sandbox.views import (
    invoice_summary,
    list_summary,
    new_package,
    package_view,
    render_order,
    stats,
)


class OrderBook:
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
        self._orders: dict[str, Order] = {}
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
            return render_order(order, time.monotonic(), hide_recent=False)

    def _add(self, definition: dict[str, Any]) -> Order:
        self._sequence += 1
        order = build_order(definition, self._sequence)
        self._orders[order.order_id] = order
        return order

    def _order_from_invoice(self, order_id: str, body: Any) -> Order | None:
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
            return render_order(order, time.monotonic(), hide_recent=not consistent)

    def list_orders(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """``GET /api/oms/pvt/orders``: newest first, ``page``/``per_page``/``f_status`` honoured."""
        page = query_int(query, "page", 1)
        per_page = min(query_int(query, "per_page", 15), 100)  # VTEX caps per_page at 100
        statuses = {s for raw in query.get("f_status", []) for s in raw.split(",") if s}
        now = time.monotonic()
        with self._lock:
            rendered = [render_order(o, now, hide_recent=True) for o in self._orders.values()]
        if statuses:
            rendered = [o for o in rendered if o["status"] in statuses]
        rendered.sort(key=lambda o: o["creationDate"], reverse=True)
        total = len(rendered)
        start = (page - 1) * per_page
        summaries = [list_summary(o) for o in rendered[start : start + per_page]]
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
            "stats": {"stats": {"totalValue": stats(values), "totalItems": stats(counts)}},
        }

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """Every package of the order (visible or not) with the sandbox's receipt history."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return [package_view(p) for p in order.packages.values()]

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
                    "invoices": [invoice_summary(p) for p in order.packages.values()],
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
            payload = validate_invoice(body, order)
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
                package = Package(
                    data=new_package(payload, order),
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
                raise bad_request("The request body must be a JSON object")
            if not is_text(body.get("trackingNumber")):
                raise bad_request("trackingNumber is required and cannot be empty")
            for key in ("trackingUrl", "courier", "dispatchedDate"):
                if key in body and body[key] is not None and not isinstance(body[key], str):
                    raise bad_request(f"{key} must be a string or null")
            package.data["trackingNumber"] = body["trackingNumber"]
            for key in ("trackingUrl", "courier", "dispatchedDate"):
                if key in body:
                    package.data[key] = body[key]
            return self._tracking_receipt(order_id, package, "tracking_number")

    def tracking_status(self, order_id: str, invoice_number: str, body: Any) -> dict[str, str]:
        """``PUT .../invoice/{invoiceNumber}/tracking``: tracking events and the delivered flag."""
        with self._lock:
            package = self._package(order_id, invoice_number)
            if not is_text(package.data.get("trackingNumber")):
                raise bad_request(
                    "The invoice has no tracking number: send the tracking number first (PATCH)"
                )
            delivered, delivered_date, events = validate_tracking(body)
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

    def _package(self, order_id: str, invoice_number: str) -> Package:
        order = self._orders.get(order_id)
        if order is None:
            raise order_not_found()
        package = order.packages.get(invoice_number)
        if package is None:
            raise invoice_not_found()
        return package

    def _tracking_receipt(self, order_id: str, package: Package, operation: str) -> dict[str, str]:
        now_iso, receipt = vtex_now(), new_receipt()
        package.tracking_receipts.append({"operation": operation, "receipt": receipt, "date": now_iso})
        del package.tracking_receipts[:-MAX_RECEIPT_HISTORY]
        self._orders[order_id].last_change = now_iso
        return {"date": now_iso, "orderId": order_id, "receipt": receipt}

    @staticmethod
    def _maybe_invoiced(order: Order, now_iso: str, visible_at: float) -> None:
        """Move to ``invoiced`` once the Output invoices reach the order value (VTEX's rule)."""
        if order.status in ("invoiced", "canceled"):
            return
        invoiced = sum(p.data["invoiceValue"] for p in order.packages.values() if p.data["type"] == "Output")
        if invoiced >= order.value:
            order.status_before_invoiced = order.status
            order.status = "invoiced"
            order.invoiced_date = now_iso
            order.invoiced_visible_at = visible_at
