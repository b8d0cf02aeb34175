"""The order hook's deployment test DAG: an asset fed by VTEX's hook (the receiver in the API server) and
by the feed as the backup, and a DAG on it that hands each order to the stand-in ERP and starts handling
it. No reconciliation with VTEX's list of ready orders: every order must come through the asset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger
from airflow_provider_vtex.triggers.order_hook import VtexOrderHookTrigger

READY = "ready-for-handling"

vtex_orders_pushed = Asset(
    "vtex_orders_pushed",
    watchers=[
        AssetWatcher(name="vtex_order_hook", trigger=VtexOrderHookTrigger(vtex_conn_id="vtex_default")),
        AssetWatcher(
            name="vtex_order_feed", trigger=VtexOrderFeedTrigger(vtex_conn_id="vtex_default", states=[READY])
        ),
    ],
)


@dag(
    dag_id="vtex_hook_intake",
    schedule=vtex_orders_pushed,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=4,
    # Airflow 3's tasks talk to the API server: while it restarts (tens of seconds here) a task fails;
    # retries that outlast the restart keep the run.
    default_args={"retries": 10, "retry_delay": dt.timedelta(seconds=10)},
)
def vtex_hook_intake() -> None:
    @task(max_active_tis_per_dag=1)
    def send_to_erp(triggering_asset_events: Any = None) -> list[str]:
        import sys
        from pathlib import Path

        if str(Path(__file__).parent) not in sys.path:
            sys.path.append(str(Path(__file__).parent))
        from erp_stand_in import create_sales_orders, held

        hook = VtexHook()
        ids = [
            payload["order_id"]
            for events in (triggering_asset_events or {}).values()
            for event in events
            if (payload := (event.extra or {}).get("payload") or {}).get("kind") == "order"
            and payload.get("state") == READY
        ]
        ready, handling = [], []
        for order_id in dict.fromkeys(ids):
            order = hook.get_order(order_id)
            if order.get("status") == READY:
                ready.append({"order_id": order_id, "value": order.get("value"), "items": order.get("items")})
            elif order.get("status") == "handling":
                handling.append(order_id)
        candidates = [order["order_id"] for order in ready] + handling
        in_erp = set(held(candidates))
        created = create_sales_orders([order for order in ready if order["order_id"] not in in_erp])
        return created + [order_id for order_id in candidates if order_id in in_erp]

    VtexStartHandlingOperator(
        task_id="start_handling",
        order_ids=send_to_erp(),  # type: ignore[arg-type]
        max_active_tis_per_dag=1,
    )


vtex_hook_intake()
