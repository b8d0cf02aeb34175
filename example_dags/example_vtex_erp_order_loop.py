"""Orders into your ERP, then invoices back to VTEX: the whole loop of a VTEX ERP integration.

1. ``configure_feed``: VTEX's order feed (Feed v3) gets the orders that reach ``ready-for-handling``
   (once per AppKey; a configuration already there is kept).
2. ``read_feed`` reads up to 100 feed items and commits NONE of them.
3. ``get_orders`` reads each ready order from VTEX; ``send_to_erp`` creates it in the ERP (here
   ``erp_stand_in``) unless the ERP holds it already: an order that comes again is handed over once
   (and the ERP's key on VTEX's order id would refuse a second sales order anyway).
4. ``start_handling`` moves each order to ``handling``, only after the ERP has it; an order already
   there (the feed handed its item out again after a run died) is reported, not started twice.
5. ``commit_feed`` commits the items, only now: a run that fails before this commits nothing, and the
   items come back after the feed's visibility timeout.
6. Later, once the ERP invoiced (here, in the same run): ``notify_invoices`` sends the invoices (one bulk
   task), ``notify_tracking`` the carrier's tracking number for each.

To adapt it: set the ``vtex_default`` connection, replace the stand-in tasks (``send_to_erp``,
``invoices_from_erp``, ``tracking_from_carrier``) and schedule it (e.g. every 5 minutes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator, VtexReadOrderFeedOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

READY = "ready-for-handling"


@dag(
    dag_id="example_vtex_erp_order_loop",
    schedule=None,  # CHANGE: e.g. "*/5 * * * *"
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,  # one reader of the feed at a time
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_erp_order_loop() -> None:
    @task
    def configure_feed() -> None:
        """Once per AppKey: the feed receives the orders that reach ready-for-handling."""
        from airflow_provider_vtex.exceptions import VtexNotFoundError

        hook = VtexHook()
        try:
            hook.get_feed_config()
        except VtexNotFoundError:
            hook.set_feed_config(
                {
                    "filter": {"type": "FromWorkflow", "status": [READY]},
                    # CHANGE: longer than a run takes, so an item is not handed out twice meanwhile.
                    "queue": {"visibilityTimeoutInSeconds": 300},
                }
            )

    read_feed = VtexReadOrderFeedOperator(task_id="read_feed", max_items=100)

    @task
    def get_orders(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each ready order once, as the ERP needs it (VTEX's feed item carries only ids and states)."""
        hook = VtexHook()
        orders = []
        for order_id in dict.fromkeys(item["order_id"] for item in items if item["state"] == READY):
            order = hook.get_order(order_id)
            orders.append(
                {
                    "order_id": order_id,
                    "status": order.get("status"),
                    "value": order.get("value"),
                    "items": [
                        {"id": item["id"], "price": item["price"], "quantity": item["quantity"]}
                        for item in order.get("items") or []
                    ],
                }
            )
        return orders

    @task
    def send_to_erp(orders: list[dict[str, Any]]) -> list[str]:
        """CHANGE: create the ready orders in your ERP (``erp_stand_in`` stands for it), each once.

        Only the orders the ERP does not hold yet are handed over: one that comes again (a duplicate feed
        item, a run after a crash, a retry of this task after the ERP created it) is found in the ERP and
        goes on without a second hand-over. One run at a time (``max_active_runs=1``), so no other run
        hands it over between the check and the create; the ERP's key on VTEX's order id stays the last
        guard. An order already in ``handling`` was handed over before (start handling comes after the
        ERP): it goes on to invoicing if the ERP holds it."""
        import sys
        from pathlib import Path

        if str(Path(__file__).parent) not in sys.path:  # Airflow 3.0's tasks lack the DAG folder on it
            sys.path.append(str(Path(__file__).parent))  # erp_stand_in.py sits beside this file
        from erp_stand_in import create_sales_orders, held

        ready = [order for order in orders if order["status"] == READY]
        handling = [order["order_id"] for order in orders if order["status"] == "handling"]
        candidates: list[str] = [order["order_id"] for order in ready] + handling
        in_erp = set(held(candidates))
        created = create_sales_orders([order for order in ready if order["order_id"] not in in_erp])
        return created + [order_id for order_id in candidates if order_id in in_erp]

    # XComArgs stand for their values at run time, which Airflow's types cannot say
    orders = get_orders(read_feed.output)  # type: ignore[arg-type]
    accepted = send_to_erp(orders)  # type: ignore[arg-type]
    start_handling = VtexStartHandlingOperator(task_id="start_handling", order_ids=accepted)  # type: ignore[arg-type]
    commit_feed = VtexCommitOrderFeedOperator(task_id="commit_feed", handles=read_feed.output)  # type: ignore[arg-type]

    @task
    def invoices_from_erp(
        started: list[dict[str, Any]], orders: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """CHANGE: the invoices your ERP issued for the orders now in handling (here: one per order,
        for its whole value; on the standard route an item's price is its unit price). Orders a crashed
        run had already started ("already_handling") are invoiced too: the bulk task skips what VTEX holds."""
        handled = {result["order_id"] for result in started if result["outcome"] != "not_ready"}
        issued = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return [
            {
                "order_id": order["order_id"],
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": f"NF-{order['order_id'].rsplit('-', 1)[0]}",
                    "invoiceValue": order["value"],
                    "issuanceDate": issued,
                    "items": order["items"],
                },
            }
            for order in orders
            if order["order_id"] in handled
        ]

    # XComArgs stand for their values at run time, which Airflow's types cannot say
    invoices = invoices_from_erp(start_handling.output, orders)  # type: ignore[arg-type]
    notify_invoices = BulkInvoiceNotificationOperator(
        task_id="notify_invoices",
        invoices=invoices,  # type: ignore[arg-type]
        check_existing="always",
    )

    @task
    def tracking_from_carrier(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """CHANGE: your carrier's tracking code for each invoiced order."""
        return [
            {
                "order_id": result["order_id"],
                "invoice_number": result["invoice_number"],
                "tracking": {"trackingNumber": f"BR{result['invoice_number'][3:]}XX", "courier": "Correios"},
            }
            for result in results
            if result["outcome"] in ("sent", "already_invoiced", "confirmed_by_read_back")
        ]

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    notify_tracking = TrackingNotificationOperator.partial(
        task_id="notify_tracking", map_index_template="{{ task.order_id }}"
    ).expand_kwargs(tracking_from_carrier(notify_invoices.output))  # type: ignore[arg-type]

    configure_feed() >> read_feed
    start_handling >> commit_feed >> notify_invoices >> notify_tracking


example_vtex_erp_order_loop()
