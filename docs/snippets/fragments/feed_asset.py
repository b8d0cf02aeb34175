from airflow.sdk import Asset, AssetWatcher

from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

vtex_orders = Asset(
    "vtex_orders",
    watchers=[
        AssetWatcher(name="vtex_order_feed", trigger=VtexOrderFeedTrigger(vtex_conn_id="vtex_default"))
    ],
)
