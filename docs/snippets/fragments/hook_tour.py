"""Every VtexHook call, in the order an ERP integration makes them (tests/integration/test_docs.py runs it)."""

# --8<-- [start:doc]
from __future__ import annotations

from typing import Any

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Outcome


def hook_tour(order_id: str, invoice: dict[str, Any], other_order_id: str) -> dict[str, Any]:
    hook = VtexHook(vtex_conn_id="vtex_default")
    ok, message = hook.test_connection()  # (True, "...") or (False, what went wrong)

    # Orders in: the feed (configure it once per AppKey), then start handling each ready order.
    hook.set_feed_config(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600},
        }
    )
    items = hook.get_feed_items(max_lot=10)  # [FeedItem], not committed
    ready = hook.list_orders(f_status="ready-for-handling", per_page=50)  # OrderList
    order = hook.get_order(order_id)  # dict, as VTEX answers
    outcome = hook.start_handling(order_id)  # Outcome.SENT; a second call: 409, VtexConflictError
    hook.commit_feed_items([item.handle for item in items])  # committing twice is harmless

    # Invoices out: sent once (see Reliability), then tracking up to delivery.
    result = hook.send_invoice(order_id, invoice)  # InvoiceResult(outcome=Outcome.SENT, receipt=...)
    again = hook.send_invoice(order_id, invoice, check_first=True, if_already_invoiced="skip")
    assert again.outcome is Outcome.ALREADY_INVOICED
    number = invoice["invoiceNumber"]
    hook.notify_tracking(order_id, number, {"trackingNumber": "BR123456789XX", "courier": "Correios"})
    hook.update_tracking_status(  # Receipt; keys not given keep VTEX's values
        order_id,
        number,
        {
            "isDelivered": True,
            "deliveredDate": "2024-02-12 15:40",
            "events": [
                {"city": "Rio de Janeiro", "state": "RJ", "description": "Entregue", "date": "2024-02-12"}
            ],
        },
    )
    hook.cancel_order(other_order_id, reason="customer asked")  # Receipt
    return {
        "connection": (ok, message),
        "feed_items": len(items),
        "ready_orders": len(ready.orders),
        "status_before": order["status"],
        "start_handling": outcome,
        "invoice": result.outcome,
    }


# --8<-- [end:doc]
