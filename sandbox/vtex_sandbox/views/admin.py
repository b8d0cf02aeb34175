"""The sandbox's own views for tests and the admin API (not VTEX shapes): receipts, history, counts,
and the timeline of the workflow (statuses reached, start-handling calls, waiting times)."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from vtex_sandbox.model import STATUS_DESCRIPTIONS
from vtex_sandbox.views import pii, standard

if TYPE_CHECKING:
    from vtex_sandbox.model import Order, Package, StatusMark


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


def order_timeline(order: Order) -> dict[str, Any]:
    """When the order reached each status, its start-handling calls, and how long it waited in
    ``ready-for-handling`` before the first accepted start-handling."""
    log = order.start_handling
    return {
        "status": order.status,
        "statuses": [_mark(m) for m in order.history],
        "startHandling": {
            "calls": log.calls,
            "accepted": log.accepted,
            "refused": log.refused,
            "firstCall": _mark(log.first_call) if log.first_call else None,
            "firstAccepted": _mark(log.first_accepted) if log.first_accepted else None,
        },
        "readyToStartHandlingSeconds": ready_to_start_handling(order),
    }


def _mark(mark: StatusMark) -> dict[str, Any]:
    return {"status": mark.status, "at": mark.at, "timestamp": mark.timestamp}


def ready_to_start_handling(order: Order) -> float | None:
    """Seconds from the order's last arrival in ``ready-for-handling`` to its first accepted start-handling
    (monotonic clock); ``None`` while it was not started."""
    accepted = order.start_handling.first_accepted
    if accepted is None:
        return None
    arrivals = [
        m.monotonic
        for m in order.history
        if m.status == "ready-for-handling" and m.monotonic <= accepted.monotonic
    ]
    return round(accepted.monotonic - arrivals[-1], 6) if arrivals else None


def workflow_stats(orders: list[Order]) -> dict[str, Any]:
    """Start-handling across the store, for load tests: calls, refusals, orders started by more than one
    call, orders still waiting in ready-for-handling, and the waiting times' distribution (seconds)."""
    called = [o for o in orders if o.start_handling.calls]
    waits = [w for w in (ready_to_start_handling(o) for o in orders) if w is not None]
    return {
        "startHandling": {
            "orders": len(called),
            "calls": sum(o.start_handling.calls for o in called),
            "accepted": sum(o.start_handling.accepted for o in called),
            "refused": sum(o.start_handling.refused for o in called),
            "ordersCalledMoreThanOnce": {
                o.order_id: o.start_handling.calls for o in called if o.start_handling.calls > 1
            },
        },
        "waitingInReadyForHandling": sorted(o.order_id for o in orders if o.status == "ready-for-handling"),
        "readyToStartHandlingSeconds": distribution(waits),
    }


def distribution(values: list[float]) -> dict[str, Any]:
    """``count``, ``min``, ``mean``, ``p50``, ``p95``, ``p99`` and ``max`` (nearest-rank percentiles);
    ``None`` figures when there is no value."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, **dict.fromkeys(("min", "mean", "p50", "p95", "p99", "max"))}

    def rank(share: float) -> float:
        return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]

    return {
        "count": len(ordered),
        "min": ordered[0],
        "mean": round(sum(ordered) / len(ordered), 6),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": ordered[-1],
    }
