"""The sandbox's own views for tests and the admin API (not VTEX shapes): receipts, history, counts."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.sandbox.model import STATUS_DESCRIPTIONS
from airflow_provider_vtex.sandbox.views import pii, standard

if TYPE_CHECKING:
    from airflow_provider_vtex.sandbox.model import Order, Package


def package_admin_view(package: Package, architecture: str) -> dict[str, Any]:
    """The package as the architecture's GET order shows it, plus the receipt history."""
    view = pii.package_view(package) if architecture == "pii" else standard.package_view(package)
    view["receipt"] = package.receipt
    view["receipts"] = copy.deepcopy(package.receipts)
    view["trackingReceipts"] = copy.deepcopy(package.tracking_receipts)
    return view


def order_summary(order: Order) -> dict[str, Any]:
    return {
        "status": order.status,
        "statusDescription": STATUS_DESCRIPTIONS[order.status],
        "value": order.value,
        "invoicedDate": order.invoiced_date,
        "invoices": [_invoice_summary(p) for p in order.packages.values()],
    }


def _invoice_summary(package: Package) -> dict[str, Any]:
    notice = package.notice
    status = package.courier_status
    delivery = None
    if status is not None:
        delivery = {
            "isDelivered": status.finished,
            "deliveredDate": status.delivered_date,
            "events": [
                {"city": e.city, "state": e.state, "description": e.description, "date": e.date}
                for e in status.events
            ],
        }
    return {
        "invoiceNumber": notice.number,
        "invoiceValue": notice.value,
        "type": notice.kind,
        "issuanceDate": notice.issuance_date,
        "refund": package.refund,
        "receipt": package.receipt,
        "receipts": [r["receipt"] for r in package.receipts],
        "tracking": {
            "trackingNumber": package.tracking_number,
            "trackingUrl": package.tracking_url,
            "courier": package.courier,
            "dispatchedDate": package.dispatched_date,
        },
        "delivery": delivery,
        "trackingReceipts": copy.deepcopy(package.tracking_receipts),
    }


def invoice_counts(order: Order) -> dict[str, Any]:
    """Invoices held and receipts issued (every receipt beyond the first of an invoice is a duplicate), and
    how many reads of the order hid an invoice not yet visible."""
    receipts = {number: len(p.receipts) for number, p in order.packages.items()}
    return {
        "invoices": len(receipts),
        "receipts": sum(receipts.values()),
        "duplicates": sum(n - 1 for n in receipts.values()),
        "resentInvoices": {number: n for number, n in receipts.items() if n > 1},
        "hiddenReads": order.hidden_reads,
    }
