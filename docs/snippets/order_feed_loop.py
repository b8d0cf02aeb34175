from __future__ import annotations

import datetime as dt
from typing import Any

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11
    from airflow.decorators import dag, task

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator, VtexReadOrderFeedOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator


@dag(
    schedule=None,  # e.g. "*/5 * * * *"
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    max_active_runs=1,  # one reader of the feed at a time
)
def order_feed_loop() -> None:
    read = VtexReadOrderFeedOperator(task_id="read_feed", max_items=100)  # commits nothing

    @task
    def get_orders(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ready = {item["order_id"] for item in items if item["state"] == "ready-for-handling"}  # snake_case
        return [VtexHook().get_order(order_id) for order_id in sorted(ready)]

    @task
    def send_to_erp(orders: list[dict[str, Any]]) -> list[str]:
        # Your ERP here: create each order it does not hold yet (looked up, and keyed, by orderId), return
        # the ids it holds (one run at a time: max_active_runs=1, so no other run creates it meanwhile).
        return [order["orderId"] for order in orders]

    accepted = send_to_erp(get_orders(read.output))
    start = VtexStartHandlingOperator(task_id="start_handling", order_ids=accepted)
    commit = VtexCommitOrderFeedOperator(task_id="commit_feed", handles=read.output)
    start >> commit  # commit only after the ERP has them and VTEX moved them


order_feed_loop()
