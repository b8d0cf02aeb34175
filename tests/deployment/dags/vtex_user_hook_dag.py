"""A user's own DAG on VTEX's order hook: ``vtex_user_feed_dag`` with the asset watched by
``VtexOrderHookTrigger`` instead of the feed trigger (no polling: the receiver in the API server stores each
pushed change), ``max_active_runs=4``, one task calling ``VtexHook.start_handling`` for every order its
triggering events carry. ``benchmarks/bench_push.py`` measures ready -> start-handling through it, beside
the feed's ``vtex_user_feed_dag``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.triggers.order_hook import VtexOrderHookTrigger

READY = "ready-for-handling"

orders = Asset(
    "vtex_orders_pushed",
    watchers=[AssetWatcher(name="vtex_order_hook", trigger=VtexOrderHookTrigger(states=[READY]))],
)


@dag(
    dag_id="vtex_user_hook_dag",
    schedule=orders,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=4,
    tags=["vtex-tests"],
)
def vtex_user_hook_dag() -> None:
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


vtex_user_hook_dag()
