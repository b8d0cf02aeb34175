from airflow.sdk import Asset, AssetWatcher

from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger
from airflow_provider_vtex.triggers.order_hook import VtexOrderHookTrigger

vtex_orders = Asset(
    "vtex_orders",
    watchers=[
        AssetWatcher(name="vtex_order_hook", trigger=VtexOrderHookTrigger(vtex_conn_id="vtex_default")),
        # optional: the feed as the backup (configure the feed too: VtexHook.set_feed_config)
        AssetWatcher(
            name="vtex_order_feed",
            trigger=VtexOrderFeedTrigger(vtex_conn_id="vtex_default", states=["ready-for-handling"]),
        ),
    ],
)
