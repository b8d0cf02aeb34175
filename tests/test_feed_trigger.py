"""VtexOrderFeedTrigger without a triggerer: what it serializes to, what its events carry, and which feed
items its ack-mode producer commits. Its behaviour in a real deployment (scheduler, triggerer killed,
hundreds of orders) is tested under tests/deployment.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any
from unittest import mock

import pytest

pytest.importorskip("airflow.sdk", reason="event-driven scheduling needs Airflow 3")
if importlib.util.find_spec("airflow.triggers.base") is None:  # pragma: no cover
    pytest.skip("no triggers", allow_module_level=True)

from airflow_provider_vtex.compat import BaseEventTrigger

if BaseEventTrigger is None:  # pragma: no cover - Airflow 2
    pytest.skip("BaseEventTrigger needs Airflow 3", allow_module_level=True)

from airflow_provider_vtex.triggers import order_feed
from airflow_provider_vtex.triggers.order_feed import FeedSettings, VtexOrderFeedTrigger

ITEM = {
    "event_id": "E1",
    "handle": "H1",
    "order_id": "1172452900788-01",
    "state": "ready-for-handling",
    "last_state": "payment-approved",
    "last_change": "2024-02-07T15:22:56.7612218Z",
    "current_change": "2024-02-07T15:22:57.0000000Z",
    "domain": "Marketplace",
}


def test_the_trigger_serializes_to_what_rebuilds_it() -> None:
    trigger = VtexOrderFeedTrigger(
        "vtex_shop", max_lot=5, poll_interval=2, states=["ready-for-handling"], quiet_period=10
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert FeedSettings.from_kwargs(kwargs) == trigger.settings


def test_a_lot_beyond_vtex_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="from 1 to 10"):
        VtexOrderFeedTrigger(max_lot=11)


def test_watchers_of_one_connection_share_one_poll_where_ack_mode_exists() -> None:
    one, two, other = (
        VtexOrderFeedTrigger("vtex_a"),
        VtexOrderFeedTrigger("vtex_a", states=["handling"]),
        VtexOrderFeedTrigger("vtex_b"),
    )
    if not order_feed.ACK_MODE:
        assert one.shared_stream_key() is None
        return
    assert one.shared_stream_key() == two.shared_stream_key() != other.shared_stream_key()


def test_an_unwanted_state_is_rejected_and_a_wanted_one_fires() -> None:
    trigger = VtexOrderFeedTrigger(states=["ready-for-handling"])

    async def stream() -> Any:
        yield ITEM
        yield {**ITEM, "handle": "H2", "state": "canceled"}
        yield {"kind": "quiet"}

    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.filter_shared_stream(stream())]

    with mock.patch.object(order_feed, "reject_shared_stream_event") as reject:
        payloads = asyncio.run(run())
    assert payloads == [{"kind": "order", **ITEM}, {"kind": "quiet"}]
    reject.assert_called_once_with()


@pytest.mark.skipif(not order_feed.ACK_MODE, reason="ack mode is Airflow 3.3+")
def test_the_producer_commits_only_what_airflow_stored_or_every_watcher_rejected() -> None:
    from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome

    producer = VtexOrderFeedTrigger.create_shared_stream_producer(VtexOrderFeedTrigger().serialize()[1])
    producer.poller = mock.Mock(commit=mock.AsyncMock())
    batch = [
        AdvanceItem("stored", AdvanceOutcome(acked=2, failed=0)),
        AdvanceItem("dropped", AdvanceOutcome(acked=0, failed=0, rejected=1)),
        AdvanceItem("not-stored", AdvanceOutcome(acked=1, failed=1)),
        AdvanceItem("nobody-listening", AdvanceOutcome(acked=0, failed=0)),
        AdvanceItem(None, AdvanceOutcome(acked=1, failed=0)),  # a quiet marker
    ]
    asyncio.run(producer.advance(batch))
    producer.poller.commit.assert_awaited_once_with(["stored", "dropped"])


# ---------------------------------------------------------------- the standalone loop against the sandbox
READY_FEED = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
}


def run_until(trigger: VtexOrderFeedTrigger, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The first ``count`` events the trigger's own loop (Airflow 3.0-3.2's way) fires."""

    async def run() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        stream = trigger.run()
        try:
            async for event in stream:
                events.append(event.payload)
                if len(events) >= count:
                    break
        finally:
            await stream.aclose()
        return events

    return asyncio.run(asyncio.wait_for(run(), timeout=timeout))


def test_the_trigger_fires_per_ready_order_commits_and_then_goes_quiet(vtex_sandbox_connection: Any) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.configure_feed(READY_FEED)
    for n in range(12):
        sandbox.place_order(f"FEED-{n:03d}-01", status="payment-approved")
        sandbox.move_order(f"FEED-{n:03d}-01", "ready-for-handling")
    trigger = VtexOrderFeedTrigger(poll_interval=0.05, quiet_period=0.2, hook_params={"max_retries": 1})
    events = run_until(trigger, 13)
    orders = [event for event in events if event["kind"] == "order"]
    assert sorted(event["order_id"] for event in orders) == [f"FEED-{n:03d}-01" for n in range(12)]
    assert {event["state"] for event in orders} == {"ready-for-handling"}
    assert events[-1] == {"kind": "quiet"}  # after the burst: one event with no order
    feed = sandbox.stats()["feeds"]
    (queue,) = feed.values()
    assert queue["quantity"] == 0  # every handed-out item was committed


def test_without_a_feed_configuration_the_trigger_fails_with_vtexs_answer(
    vtex_sandbox_connection: Any,
) -> None:
    from airflow_provider_vtex.exceptions import VtexNotFoundError

    with pytest.raises(VtexNotFoundError, match="feed"):
        run_until(VtexOrderFeedTrigger(poll_interval=0.05, hook_params={"max_retries": 0}), 1)
