"""Test variants of ``example_vtex_erp_order_loop``: the same read -> get orders -> ERP -> start handling ->
commit tasks (same task ids, same code), with settings a test or a benchmark needs.

* ``vtex_feed_loop``: triggered by the test (``tests/deployment/test_feed_at_least_once.py``), which kills
  its tasks between read and commit; retried 2 s after a failure. The invoice and tracking half is left
  out: it comes after the commit, and its mapped tracking task would add one task per order.
* ``vtex_feed_loop_backlog``: as ``vtex_feed_loop``, reading up to 1,000 items a run (in VTEX's lots
  of 10), triggered run after run by the test that drains a 2,500-order backlog.
* ``vtex_feed_loop_every_minute``: the pull flow as users schedule it, every minute, reading up to 1,000
  items a run; then the invoices in one bulk task, as ``example_vtex_orders_from_feed_events`` does, so
  the latency benchmark (``benchmarks/bench_events.py``) compares the same work started two ways. Paused
  when created: it reads the same feed, so it runs only where the benchmark unpauses it.

``tests/deployment/test_dag_variants.py`` checks that the shared tasks still match the example.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator, VtexReadOrderFeedOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

READY = "ready-for-handling"
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def feed_loop(
    dag_id: str,
    schedule: str | None,
    max_items: int,
    retry_delay_seconds: float,
    invoice: bool,
    paused: bool = False,
) -> None:
    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=retry_delay_seconds)},
        tags=["vtex-tests"],
        is_paused_upon_creation=paused,
    )
    def loop() -> None:
        read_feed = VtexReadOrderFeedOperator(task_id="read_feed", max_items=max_items)

        @task
        def get_orders(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
            """As the example's (a docstring too, so both functions' constants line up)."""
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
        start_handling = VtexStartHandlingOperator(task_id="start_handling", order_ids=send_to_erp(orders))  # type: ignore[arg-type]
        commit_feed = VtexCommitOrderFeedOperator(task_id="commit_feed", handles=read_feed.output)  # type: ignore[arg-type]
        start_handling >> commit_feed
        if not invoice:
            return

        @task
        def invoices_from_erp(
            started: list[dict[str, Any]], orders: list[dict[str, Any]]
        ) -> list[dict[str, Any]]:
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

        notify_invoices = BulkInvoiceNotificationOperator(
            task_id="notify_invoices",
            # an XComArg stands for its value at run time, which Airflow's types cannot say
            invoices=invoices_from_erp(start_handling.output, orders),  # type: ignore[arg-type]
            check_existing="always",
        )
        commit_feed >> notify_invoices

    loop()


feed_loop("vtex_feed_loop", None, max_items=100, retry_delay_seconds=2, invoice=False)
feed_loop("vtex_feed_loop_backlog", None, max_items=1000, retry_delay_seconds=5, invoice=False)
feed_loop(
    "vtex_feed_loop_every_minute",
    "* * * * *",
    max_items=1000,
    retry_delay_seconds=5,
    invoice=True,
    paused=True,
)
