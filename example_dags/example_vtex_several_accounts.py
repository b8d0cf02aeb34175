"""Several VTEX accounts in one DAG: a main store, a franchise account selling as its white-label seller,
and a store on VTEX's PII data architecture.

Each account is one ``vtex`` connection (its own AppKey, AppToken, host and, for the PII store,
``data_architecture: pii``), and the DAG maps one task over the connection ids, so adding an account is
adding a connection id to ``ACCOUNTS``. Each hook sends an account's credentials to that account's host
only, and each account has its own request budget (the connection's ``max_requests_per_second``, shared
by every worker and the triggerer) and its own 429 pauses: one account's throttling never slows another.

On Airflow 3 the DAG also starts on each account's order feed: one ``VtexOrderFeedTrigger`` watcher per
account, each event carrying the connection id of its account (``payload["vtex_conn_id"]``), so a run
knows which account an event's order belongs to. It also runs every 10 minutes, reading each account's
ready orders (VTEX's list), which covers events a run did not take.

A franchise account has its own OMS and sells as a white-label seller of the main account: its order for
a sale made in the main store names the main account's order in ``marketplaceOrderId`` (``origin``
``Fulfillment``), and the main account's order names the franchise's in ``sellerOrderId``. ``relate``
puts each franchise order beside the main account's order it fulfils, reading that order from the main
account (invoices go to the fulfilling account's order: VTEX's marketplace guidance).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.compat import Asset, AssetWatcher

#: CHANGE: your accounts' connection ids; the first is the main (marketplace) account.
ACCOUNTS = ["vtex_default", "vtex_franchise", "vtex_store_br"]
READY = "ready-for-handling"

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.x
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

if Asset is not None and AssetWatcher is not None:  # Airflow 3: one feed watcher per account
    from airflow.sdk import AssetAny

    try:
        from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable
    except ImportError:  # Airflow 3.0 keeps them in airflow.timetables (mypy checks 3.3's names)
        from airflow.timetables.assets import AssetOrTimeSchedule  # type: ignore[assignment]
        from airflow.timetables.trigger import CronTriggerTimetable  # type: ignore[assignment]

    from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

    # Configure each account's feed once (``example_vtex_erp_order_loop``'s ``configure_feed`` shows how).
    account_feeds = [
        Asset(
            f"vtex_orders_{conn_id}",
            watchers=[
                AssetWatcher(
                    name=f"vtex_order_feed_{conn_id}",
                    trigger=VtexOrderFeedTrigger(vtex_conn_id=conn_id, states=[READY]),
                )
            ],
        )
        for conn_id in ACCOUNTS
    ]
    schedule: Any = AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("*/10 * * * *", timezone="UTC"), assets=AssetAny(*account_feeds)
    )
else:  # Airflow 2: the reconciliation alone
    schedule = "*/10 * * * *"


@dag(
    dag_id="example_vtex_several_accounts",
    schedule=schedule,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_several_accounts() -> None:
    @task
    def ready_orders(vtex_conn_id: str, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """The account's ready orders: those its feed's events brought, and VTEX's list of ready orders.

        CHANGE: hand them to your ERP here (``example_vtex_orders_from_feed_events`` shows how, once each).
        """
        from airflow_provider_vtex.hooks.vtex import VtexHook

        hook = VtexHook(vtex_conn_id)
        ids = [
            payload["order_id"]
            for events in (triggering_asset_events or {}).values()
            for event in events
            if (payload := (event.extra or {}).get("payload") or {}).get("vtex_conn_id") == vtex_conn_id
            and payload.get("kind") == "order"
        ]
        ids += hook.list_orders(f_status=READY, per_page=100).order_ids
        orders = []
        for order_id in dict.fromkeys(ids):
            order = hook.get_order(order_id)
            if order.get("status") != READY:
                continue
            orders.append(
                {
                    "vtex_conn_id": vtex_conn_id,
                    "data_architecture": hook.data_architecture,
                    "order_id": order_id,
                    "value": order.get("value"),
                    "origin": order.get("origin"),
                    "marketplace_order_id": order.get("marketplaceOrderId") or None,
                }
            )
        print(f"{vtex_conn_id} ({hook.data_architecture}): {len(orders)} ready orders")
        return orders

    @task
    def relate(per_account: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Each franchise (white-label seller) order beside the main account's order it fulfils."""
        from airflow_provider_vtex.hooks.vtex import VtexHook

        main = VtexHook(ACCOUNTS[0])
        related = []
        for orders in per_account:
            for order in orders:
                if order["vtex_conn_id"] == ACCOUNTS[0] or not order["marketplace_order_id"]:
                    continue
                marketplace_order = main.get_order(order["marketplace_order_id"])
                related.append(
                    {
                        "seller_account": order["vtex_conn_id"],
                        "seller_order_id": order["order_id"],
                        "marketplace_order_id": order["marketplace_order_id"],
                        "marketplace_names_the_seller_order": marketplace_order.get("sellerOrderId")
                        == order["order_id"],
                        "marketplace_status": marketplace_order.get("status"),
                    }
                )
        for relation in related:
            print(
                f"{relation['seller_account']} order {relation['seller_order_id']} fulfils "
                f"{ACCOUNTS[0]} order {relation['marketplace_order_id']} ({relation['marketplace_status']})"
            )
        return related

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    relate(ready_orders.expand(vtex_conn_id=ACCOUNTS))  # type: ignore[arg-type]


example_vtex_several_accounts()
