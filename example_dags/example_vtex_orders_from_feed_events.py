"""Event-driven (Airflow 3): a VTEX order that reaches ready-for-handling starts this DAG by itself.

``VtexOrderFeedTrigger`` watches VTEX's order feed from Airflow's triggerer; each feed item becomes an
event of the ``vtex_orders`` asset, and the events start runs of this DAG. One run may take several
events: ``collect_orders`` goes over all of them (``triggering_asset_events``).

It also runs every 10 minutes without an event, and every run handles the ready orders no event brought
(``reconcile``: VTEX's order list). That guards two gaps: on Airflow 3.0-3.2 an event can be lost when
the triggerer dies right after the feed item was committed, and on any version Airflow can store an
event while creating a run and attach it to no run until a later event arrives (apache/airflow#56050).

**Each order reaches the ERP once.** The feed is at least once (a triggerer killed between storing an
event and committing its item brings the item back), so an order may come in two events, or in an event
and the reconciliation. ``send_to_erp`` reads each order and hands over only the ready ones; the ERP keys
its sales orders by VTEX's order id (``erp_stand_in``), so an order handed over again is recognised, not
created twice; start handling comes after the ERP has the order, reads each order first, and runs one
task at a time across runs. What this relies on: from VTEX, that start-handling moves an order out of
``ready-for-handling`` atomically (a second call is refused with 409); from Airflow, that a run's tasks
run in order and ``max_active_tis_per_dag=1`` holds across runs; from your ERP, the unique key.

Then, as in the other examples, the ERP invoices and the invoice and tracking go back to VTEX.

Set up the feed once per AppKey (``example_vtex_erp_order_loop``'s ``configure_feed`` does it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.compat import Asset, AssetWatcher

if Asset is not None and AssetWatcher is not None:  # Airflow 3: event-driven scheduling
    from airflow.sdk import dag, task

    try:
        from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable
    except ImportError:  # Airflow 3.0 keeps them in airflow.timetables
        from airflow.timetables.assets import AssetOrTimeSchedule
        from airflow.timetables.trigger import CronTriggerTimetable

    from airflow_provider_vtex.hooks.vtex import VtexHook
    from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
    from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
    from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

    READY = "ready-for-handling"

    vtex_orders = Asset(
        "vtex_orders",
        watchers=[
            AssetWatcher(
                name="vtex_order_feed",
                # CHANGE: your connection; states=[READY] fires only for ready orders.
                trigger=VtexOrderFeedTrigger(vtex_conn_id="vtex_default", states=[READY]),
            )
        ],
    )

    @dag(
        dag_id="example_vtex_orders_from_feed_events",
        # An event of the asset, or the clock: the reconciliation runs even when no event comes.
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(
                "*/10 * * * *", timezone="UTC"
            ),  # CHANGE: the reconciliation period
            assets=vtex_orders,
        ),
        start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
        tags=["vtex", "example"],
        doc_md=__doc__,
    )
    def example_vtex_orders_from_feed_events() -> None:
        @task
        def collect_orders(triggering_asset_events: Any = None) -> list[str]:
            """The order of every feed item that triggered this run (several may arrive in one run)."""
            ids: list[str] = []
            for events in (triggering_asset_events or {}).values():
                for event in events:
                    payload = (event.extra or {}).get("payload") or {}
                    if payload.get("kind") == "order" and payload.get("state") == READY:
                        ids.append(payload["order_id"])
            return list(dict.fromkeys(ids))

        @task
        def reconcile(from_events: list[str]) -> list[str]:
            """Add the ready orders no event brought: VTEX's list of ready-for-handling orders."""
            ready = VtexHook().list_orders(f_status=READY, per_page=100).order_ids
            return list(dict.fromkeys([*from_events, *ready]))

        @task
        def send_to_erp(order_ids: list[str]) -> list[str]:
            """CHANGE: create the ready orders in your ERP (``erp_stand_in`` stands for it). The ERP keys
            its sales orders by VTEX's order id, so an order two events brought (the feed is at least
            once) is recognised, not created twice. An order already in ``handling`` was handed over before
            (start handling comes after the ERP): it goes on to invoicing if the ERP holds it, and is not
            handed over again."""
            from erp_stand_in import create_sales_orders, held

            hook = VtexHook()
            ready, handling = [], []
            for order_id in order_ids:
                order = hook.get_order(order_id)
                if order.get("status") == READY:
                    ready.append(
                        {"order_id": order_id, "value": order.get("value"), "items": order.get("items")}
                    )
                elif order.get("status") == "handling":
                    handling.append(order_id)
            return create_sales_orders(ready) + held(handling)

        # One start-handling task at a time across runs: a run that overlaps another (max_active_runs > 1)
        # finds the orders the other started in handling and leaves them.
        started = VtexStartHandlingOperator(
            task_id="start_handling",
            order_ids=send_to_erp(reconcile(collect_orders())),
            max_active_tis_per_dag=1,
        )

        @task
        def invoices_from_erp(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
            """CHANGE: the invoices your ERP issued for the orders now in handling (including those an
            earlier run started: the bulk task skips what VTEX already holds)."""
            hook = VtexHook()
            issued = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            invoices = []
            for result in results:
                if result["outcome"] == "not_ready":
                    continue
                order = hook.get_order(result["order_id"])
                invoices.append(
                    {
                        "order_id": result["order_id"],
                        "invoice": {
                            "type": "Output",
                            "invoiceNumber": f"NF-EV-{result['order_id'].rsplit('-', 1)[0]}",
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

        BulkInvoiceNotificationOperator(
            task_id="notify_invoices", invoices=invoices_from_erp(started.output), check_existing="always"
        )

    example_vtex_orders_from_feed_events()
