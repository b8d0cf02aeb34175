from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.sdk import Asset, AssetWatcher

trigger = MessageQueueTrigger(scheme="vtex", vtex_conn_id="vtex_mystore", account="mystore")
orders = Asset("vtex_orders", watchers=[AssetWatcher(name="vtex_orders_pushed", trigger=trigger)])
