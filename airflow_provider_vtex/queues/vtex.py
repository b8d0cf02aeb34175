"""The ``vtex`` scheme of Airflow's common.messaging: ``MessageQueueTrigger(scheme="vtex", ...)``.

A VTEX account's order changes are a queue like a Kafka topic or an SQS queue: the hook pushes them to
the receiver in the API server, which stores them on the assets watched for the connection. The queue is
named by the connection (and, to be checked against it, the account)::

    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    trigger = MessageQueueTrigger(scheme="vtex", vtex_conn_id="vtex_mystore", account="mystore")
    orders = Asset("vtex_orders", watchers=[AssetWatcher(name="vtex_orders_pushed", trigger=trigger)])

It resolves to :class:`~airflow_provider_vtex.triggers.order_hook.VtexOrderHookTrigger` (its kwargs are
the trigger's: ``vtex_conn_id``, ``account``, ``states``). Needs Airflow 3 and
``apache-airflow-providers-common-messaging`` (the provider's ``messaging`` extra); without it this module
is not importable and Airflow, which lists it under ``queues``, skips it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.providers.common.messaging.providers.base_provider import BaseMessageQueueProvider

if TYPE_CHECKING:
    from airflow.triggers.base import BaseEventTrigger

SCHEME = "vtex"


class VtexMessageQueueProvider(BaseMessageQueueProvider):  # type: ignore[misc]
    """Scheme ``vtex``: order changes pushed by VTEX's hook for one connection."""

    scheme = SCHEME

    def trigger_class(self) -> type[BaseEventTrigger]:
        from airflow_provider_vtex.triggers.order_hook import VtexOrderHookTrigger

        return VtexOrderHookTrigger
