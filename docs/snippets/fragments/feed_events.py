"""A DAG on the feed trigger's asset: orders to the intake, unreadable feed items to a dead-letter task.

tests/integration/test_docs.py runs both tasks' functions on asset events as Airflow stores them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

log = logging.getLogger(__name__)

vtex_orders = Asset(
    "vtex_orders",
    watchers=[
        AssetWatcher(name="vtex_order_feed", trigger=VtexOrderFeedTrigger(vtex_conn_id="vtex_default"))
    ],
)


# --8<-- [start:doc]
def feed_payloads(triggering_asset_events: Any, kind: str) -> list[dict[str, Any]]:
    """The trigger's payloads of one ``kind`` ("order", "unreadable" or "quiet") among a run's events.

    Airflow stores each trigger event as an asset event whose ``extra`` is
    ``{"from_trigger": True, "payload": <the trigger's payload>}``.
    """
    return [
        payload
        for events in (triggering_asset_events or {}).values()
        for event in events
        if (payload := (event.extra or {}).get("payload") or {}).get("kind") == kind
    ]


@dag(schedule=vtex_orders, start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), catchup=False)
def vtex_orders_with_dead_letters() -> None:
    @task
    def orders(triggering_asset_events: Any = None) -> list[str]:
        """CHANGE: the intake (hand the orders to your ERP, start handling them...)."""
        return [payload["order_id"] for payload in feed_payloads(triggering_asset_events, "order")]

    @task
    def dead_letters(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """Feed items the provider could not read. CHANGE: store them, open a ticket, alert."""
        unreadable = feed_payloads(triggering_asset_events, "unreadable")
        for item in unreadable:
            log.warning(
                "VTEX feed item %s (handle %s) was set aside: %s",
                item["event_id"],
                item["handle"],
                "; ".join(item["problems"]),
            )
        return unreadable

    orders()
    dead_letters()


vtex_orders_with_dead_letters()
# --8<-- [end:doc]
