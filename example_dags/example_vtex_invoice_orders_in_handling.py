"""Event-driven (Airflow 3): invoice the orders in handling whenever the intake DAG started some.

``example_vtex_orders_from_feed_events`` starts handling orders as they come and updates the
``vtex_orders_in_handling`` asset when it did; this DAG is scheduled on that asset. It takes every order
VTEX lists in ``handling`` (those an earlier run missed included), gets its invoice from the ERP (here
built from the order) and sends the invoices in one bulk task that reads each order first
(``check_existing="always"``), so an order invoiced already is skipped, never invoiced twice. One run at a
time: the invoicing of one wave of orders is not raced by the next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.compat import Asset

if Asset is not None:  # Airflow 3: scheduled on an asset the intake DAG updates
    from airflow.sdk import dag, task

    from airflow_provider_vtex.hooks.vtex import VtexHook
    from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

    @dag(
        dag_id="example_vtex_invoice_orders_in_handling",
        schedule=Asset("vtex_orders_in_handling"),
        start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
        tags=["vtex", "example"],
        doc_md=__doc__,
    )
    def example_vtex_invoice_orders_in_handling() -> None:
        @task
        def invoices_from_erp() -> list[dict[str, Any]]:
            """CHANGE: the invoices your ERP issued for the orders in handling (here: one per order, for its
            whole value; on the standard route an item's price is its unit price)."""
            hook = VtexHook()
            ids: list[str] = []
            page = 1
            while True:  # VTEX's list in pages of 100 (it lags behind a start-handling by seconds)
                listed = hook.list_orders(f_status="handling", per_page=100, page=page).order_ids
                ids += listed
                if len(listed) < 100:
                    break
                page += 1
            issued = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            invoices = []
            for order_id in dict.fromkeys(ids):
                order = hook.get_order(order_id)
                invoices.append(
                    {
                        "order_id": order_id,
                        "invoice": {
                            "type": "Output",
                            "invoiceNumber": f"NF-EV-{order_id.rsplit('-', 1)[0]}",
                            "invoiceValue": order["value"],
                            "issuanceDate": issued,
                            "items": [
                                {"id": item["id"], "price": item["price"], "quantity": item["quantity"]}
                                for item in order.get("items") or []
                            ],
                        },
                    }
                )
            return invoices

        # an XComArg stands for its value at run time, which Airflow's types cannot say
        BulkInvoiceNotificationOperator(
            task_id="notify_invoices",
            invoices=invoices_from_erp(),  # type: ignore[arg-type]
            check_existing="always",
        )

    example_vtex_invoice_orders_in_handling()
