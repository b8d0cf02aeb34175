"""Event-driven (Airflow 3): a VTEX order that reaches ready-for-handling starts this DAG by itself.

``VtexOrderFeedTrigger`` watches VTEX's order feed from Airflow's triggerer; each feed item becomes an
event of the ``vtex_orders`` asset, and the events start runs of this DAG. One run may take several
events (``triggering_asset_events``). A run is short on purpose, two tasks: hand the orders to the ERP,
then start handling them; the next run starts while events keep coming. Invoicing follows in its own DAG
(``example_vtex_invoice_orders_in_handling``), scheduled on the ``vtex_orders_in_handling`` asset that
``start_handling`` updates, so it never holds up the next orders.

It also runs every 10 minutes without an event, and every run handles the ready orders no event brought
(VTEX's list of ready orders). That guards two gaps: on Airflow 3.0-3.2 an event can be lost when the
triggerer dies right after the feed item was committed, and on any version Airflow can store an event
while creating a run and attach it to no run until a later event arrives (apache/airflow#56050; the
trigger's repeated ``quiet`` events make that later event come within seconds).

**Each order reaches the ERP once.** The feed is at least once (a triggerer killed between storing an
event and committing its item brings the item back), so an order may come in two events, or in an event
and the reconciliation, in runs that overlap. ``send_to_erp`` reads each order, and hands over only the
ready ones the ERP does not hold yet, one task at a time across runs, so no other run hands an order over
between the check and the create; a retry after the ERP created it finds it there. The ERP's key on
VTEX's order id (``erp_stand_in``) stays the last guard. Start handling comes after the ERP has the
order, reads each order first, and runs one task at a time across runs too. What this relies on: from
VTEX, that start-handling moves an order out of ``ready-for-handling`` atomically (a second call is
refused with 409); from Airflow, that a run's tasks run in order and ``max_active_tis_per_dag=1`` holds
across runs; from your ERP, a lookup by VTEX's order id and, as the last guard, the unique key.

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
    except ImportError:  # Airflow 3.0 keeps them in airflow.timetables (mypy checks 3.3's names)
        from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[assignment]
        from airflow.timetables.trigger import CronTriggerTimetable  # type: ignore[assignment]

    from airflow_provider_vtex.hooks.vtex import VtexHook
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
    #: Updated by every successful start_handling: the invoicing DAG is scheduled on it.
    vtex_orders_in_handling = Asset("vtex_orders_in_handling")

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
        max_active_runs=4,  # the next events start a run while one is still going
        default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
        tags=["vtex", "example"],
        doc_md=__doc__,
    )
    def example_vtex_orders_from_feed_events() -> None:
        # One at a time across runs: an order two overlapping runs hold is handed over by the first and
        # found in the ERP by the second.
        @task(max_active_tis_per_dag=1)
        def send_to_erp(triggering_asset_events: Any = None) -> list[str]:
            """CHANGE: create the ready orders in your ERP (``erp_stand_in`` stands for it), each once.

            The orders: each feed item's that triggered this run, and the ready orders no event brought
            (VTEX's list: the reconciliation). Only those the ERP does not hold yet are handed over: an
            order two events brought (the feed is at least once), or that an earlier run handed over
            and has not started yet, goes on without a second hand-over. An order already in
            ``handling`` was handed over before (start handling comes after the ERP): it goes on if the
            ERP holds it."""
            import sys
            from pathlib import Path

            if str(Path(__file__).parent) not in sys.path:  # Airflow 3.0's tasks lack the DAG folder on it
                sys.path.append(str(Path(__file__).parent))  # erp_stand_in.py sits beside this file
            from erp_stand_in import create_sales_orders, held

            hook = VtexHook()
            ids = [
                payload["order_id"]
                for events in (triggering_asset_events or {}).values()
                for event in events
                if (payload := (event.extra or {}).get("payload") or {}).get("kind") == "order"
                and payload.get("state") == READY
            ]
            ids += hook.list_orders(f_status=READY, per_page=100).order_ids
            ready, handling = [], []
            for order_id in dict.fromkeys(ids):
                order = hook.get_order(order_id)
                if order.get("status") == READY:
                    ready.append(
                        {"order_id": order_id, "value": order.get("value"), "items": order.get("items")}
                    )
                elif order.get("status") == "handling":
                    handling.append(order_id)
            candidates: list[str] = [order["order_id"] for order in ready] + handling
            in_erp = set(held(candidates))
            created = create_sales_orders([order for order in ready if order["order_id"] not in in_erp])
            return created + [order_id for order_id in candidates if order_id in in_erp]

        # One start-handling task at a time across runs: a run that overlaps another finds the orders the
        # other started in handling and leaves them. The account's request budget (the connection's
        # max_requests_per_second, shared by every process) bounds it, two requests an order; this
        # task's max_requests_per_second would only be a further cap on it.
        VtexStartHandlingOperator(
            task_id="start_handling",
            # an XComArg stands for its value at run time, which Airflow's types cannot say
            order_ids=send_to_erp(),  # type: ignore[arg-type]
            max_active_tis_per_dag=1,
            max_requests_per_second=None,
            outlets=[vtex_orders_in_handling],
        )

    example_vtex_orders_from_feed_events()
