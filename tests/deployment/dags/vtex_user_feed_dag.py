"""A user's own DAG on VTEX's order feed, written as the issue's measurement wrote it: an asset watched by
``VtexOrderFeedTrigger`` with the trigger's defaults, ``max_active_runs=4``, and one task that calls
``VtexHook.start_handling`` for every order its triggering events carry (no reconciliation, no ERP). The steady-latency test
(``test_event_driven.py``) measures ready -> start-handling through it, beside the shipped example.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

READY = "ready-for-handling"

orders = Asset(
    "vtex_orders",
    watchers=[AssetWatcher(name="vtex_order_feed", trigger=VtexOrderFeedTrigger(states=[READY]))],
)


@dag(
    dag_id="vtex_user_feed_dag",
    schedule=orders,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=4,
    tags=["vtex-tests"],
)
def vtex_user_feed_dag() -> None:
    @task
    def start_handling(triggering_asset_events: Any = None) -> int:
        hook = VtexHook()
        ids = [
            event.extra["payload"]["order_id"]
            for events in (triggering_asset_events or {}).values()
            for event in events
            if (event.extra or {}).get("payload", {}).get("kind") == "order"
        ]
        for order_id in dict.fromkeys(ids):
            hook.start_handling(order_id)
        return len(ids)

    start_handling()


vtex_user_feed_dag()
