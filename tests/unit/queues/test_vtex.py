"""``vtex`` as a common.messaging queue: Airflow discovers the provider's queue class from the provider
info, and ``MessageQueueTrigger(scheme="vtex", ...)`` resolves to the hook-fed watcher for the named
connection and account. Skipped without apache-airflow-providers-common-messaging (an optional extra)."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow.providers.common.messaging", reason="the 'messaging' extra is not installed")


def test_airflow_discovers_the_vtex_queue_provider() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
    manager.initialize_providers_queues()
    assert "airflow_provider_vtex.queues.vtex.VtexMessageQueueProvider" in manager.queue_class_names


def test_message_queue_trigger_with_the_vtex_scheme_is_the_order_hook_watcher() -> None:
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    from airflow_provider_vtex.compat import AssetWatcher, BaseEventTrigger

    trigger = MessageQueueTrigger(scheme="vtex", vtex_conn_id="vtex_mystore", account="MyStore")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_vtex.triggers.order_hook.VtexOrderHookTrigger"
    assert kwargs == {"vtex_conn_id": "vtex_mystore", "account": "mystore", "states": None}
    assert isinstance(trigger.trigger, BaseEventTrigger)
    AssetWatcher(name="vtex_orders_pushed", trigger=trigger)  # accepted as an asset's watcher


def test_only_the_vtex_scheme_matches() -> None:
    from airflow_provider_vtex.queues.vtex import VtexMessageQueueProvider

    provider = VtexMessageQueueProvider()
    assert provider.scheme_matches("vtex")
    assert not provider.scheme_matches("kafka")
    assert not provider.queue_matches("vtex://mystore")
