"""VtexOrderFeedTrigger without a triggerer: what it serializes to, what its events carry, and which feed
items its ack-mode producer commits. Its behaviour in a real deployment (scheduler, triggerer killed,
hundreds of orders) is tested under tests/deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar
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
    assert payloads == [{"kind": "order", "vtex_conn_id": "vtex_default", **ITEM}, {"kind": "quiet"}]
    reject.assert_called_once_with()


@pytest.mark.skipif(not order_feed.ACK_MODE, reason="ack mode is Airflow 3.3+")
def test_the_producer_commits_only_what_airflow_stored_or_every_watcher_rejected() -> None:
    from airflow.triggers.shared_stream import AdvanceItem, AdvanceOutcome

    producer = VtexOrderFeedTrigger.create_shared_stream_producer(VtexOrderFeedTrigger().serialize()[1])
    producer.poller = mock.Mock(commit=mock.AsyncMock())
    batch = [
        AdvanceItem((0, "stored"), AdvanceOutcome(acked=2, failed=0)),
        AdvanceItem((0, "dropped"), AdvanceOutcome(acked=0, failed=0, rejected=1)),
        AdvanceItem((0, "not-stored"), AdvanceOutcome(acked=1, failed=1)),
        AdvanceItem((0, "nobody-listening"), AdvanceOutcome(acked=0, failed=0)),
        AdvanceItem((1, None), AdvanceOutcome(acked=1, failed=0)),  # a quiet marker
    ]
    producer.in_flight.handed(len(batch))
    asyncio.run(producer.advance(batch))
    producer.poller.commit.assert_awaited_once_with(["stored", "dropped"])
    assert producer.in_flight.count == 0  # every item of the batch is settled, committed or not


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
    trigger = VtexOrderFeedTrigger(poll_interval=0.02, quiet_period=0.05, hook_params={"max_retries": 1})
    events = run_until(trigger, 12 + order_feed.QUIET_EVENTS)
    orders = [event for event in events if event["kind"] == "order"]
    assert sorted(event["order_id"] for event in orders) == [f"FEED-{n:03d}-01" for n in range(12)]
    assert {event["state"] for event in orders} == {"ready-for-handling"}
    # After the burst: quiet events with no order (repeated, in case one is stranded; see the trigger).
    assert events[12:] == [{"kind": "quiet"}] * order_feed.QUIET_EVENTS
    feed = sandbox.stats()["feeds"]
    (queue,) = feed.values()
    assert queue["quantity"] == 0  # every handed-out item was committed


def test_quiet_events_back_off_and_then_stop(vtex_sandbox_connection: Any) -> None:
    """One order, then quiet events at 1, 2, 4, 8, 16 and 32 times ``quiet_period`` after it, and no more:
    an idle store costs no runs."""
    sandbox = vtex_sandbox_connection
    sandbox.configure_feed(READY_FEED)
    sandbox.place_order("QUIET-01", status="payment-approved")
    sandbox.move_order("QUIET-01", "ready-for-handling")
    period = 0.05
    trigger = VtexOrderFeedTrigger(poll_interval=0.01, quiet_period=period, hook_params={"max_retries": 1})
    stamps: list[float] = []

    async def run() -> None:
        stream = trigger.run()
        try:
            async for _event in stream:
                stamps.append(time.monotonic())
        finally:
            await stream.aclose()

    last_quiet_after = period * 2 ** (order_feed.QUIET_EVENTS - 1)
    with contextlib.suppress(TimeoutError):
        asyncio.run(asyncio.wait_for(run(), timeout=2 * last_quiet_after + 2))
    assert len(stamps) == 1 + order_feed.QUIET_EVENTS  # the order, then the quiet events, then silence
    after_order = [stamp - stamps[0] for stamp in stamps[1:]]
    for number, seconds in enumerate(after_order):
        assert seconds >= period * 2**number  # never earlier than due (a busy machine only makes it later)


def test_without_a_feed_configuration_the_trigger_fails_with_vtexs_answer(
    vtex_sandbox_connection: Any,
) -> None:
    from airflow_provider_vtex.exceptions import VtexNotFoundError

    with pytest.raises(VtexNotFoundError, match="feed"):
        run_until(VtexOrderFeedTrigger(poll_interval=0.05, hook_params={"max_retries": 0}), 1)


# ---------------------------------------------------------------- a backlog through Airflow's shared stream
BACKLOG = 3000


def place_backlog(sandbox: Any, orders: int) -> None:
    """``orders`` orders made ready for handling at once: the feed holds them all before anyone reads."""
    sandbox.configure_feed(READY_FEED)
    day = sandbox.simulate(orders=orders, over_seconds=0, prefix="BACKLOG")
    assert day.wait(120), "the backlog was not placed"
    assert sandbox.stats()["feeds"][sandbox.app_key]["quantity"] == orders


def drain_through_shared_stream(
    trigger: VtexOrderFeedTrigger, orders: int, queue_size: int, confirm_after: float, watchers: int = 2
) -> dict[str, Any]:
    """Airflow 3.3's own ``SharedStreamManager`` in ack mode, driven as the triggerer drives it: ``watchers``
    triggers subscribe to the trigger's stream, each event they yield is bound and then confirmed stored
    ``confirm_after`` seconds later (the supervisor's sync round). Each watcher handles an event in 2 ms
    (slower than VTEX answers a lot: the case that overflowed). Returns what each watcher saw, the
    overflows, and the most items the producer held unsettled."""
    from airflow.triggers.shared_stream import SharedStreamManager

    key = trigger.shared_stream_key()
    manager = SharedStreamManager(max_subscriber_queue=queue_size, ack_timeout=60)

    seen: dict[int, list[str]] = {n: [] for n in range(1, watchers + 1)}
    failures: list[str] = []

    async def watch(trigger_id: int) -> None:
        stream = manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
        try:
            async for event in trigger.filter_shared_stream(stream):
                seq = manager.bind_pending_event(trigger_id=trigger_id, key=key)
                if seq is not None:
                    asyncio.get_running_loop().call_later(confirm_after, manager.confirm_persisted, [seq])
                if event.payload["kind"] == "order":
                    seen[trigger_id].append(event.payload["order_id"])
                await asyncio.sleep(0.002)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on: an overflow, or any other failure
            failures.append(f"{type(exc).__name__}: {exc}")

    async def main() -> None:
        tasks = [asyncio.create_task(watch(n)) for n in seen]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not failures:
            if all(len(ids) >= orders for ids in seen.values()):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(confirm_after + 0.5)  # the last confirmations, then the last commits
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await manager.stop_all()

    blocking = BlockingSteps()
    with mock.patch.object(order_feed, "InFlight", RecordingInFlight), blocking.watched():
        RecordingInFlight.peaks.clear()
        asyncio.run(main())
    return {
        "seen": seen,
        "failures": failures,
        "peak": max(RecordingInFlight.peaks or [0]),
        "blocking steps on the loop": blocking.on_loop_thread,
    }


class BlockingSteps:
    """Where the trigger's blocking set-up runs: Airflow's connection lookup (database or secrets backend),
    the HTTP client's construction (CA bundle read from disk) and the hook's construction (module imports).
    Airflow's triggerer runs every trigger on one event loop and warns when a step holds it above 0.2 s;
    these belong in a thread. (Timing the loop itself would make a test of a noisy shared machine.)"""

    def __init__(self) -> None:
        self.on_loop_thread: list[str] = []

    @contextlib.contextmanager
    def watched(self) -> Iterator[None]:
        from airflow_provider_vtex.client.async_transport import AsyncVtexClient
        from airflow_provider_vtex.hooks.vtex import VtexHook

        loop_thread = threading.current_thread()  # asyncio.run runs the loop in the calling thread

        def recording(name: str, original: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if threading.current_thread() is loop_thread:
                    self.on_loop_thread.append(name)
                return original(*args, **kwargs)

            return wrapper

        with (
            mock.patch.object(
                VtexHook,
                "get_connection",
                side_effect=recording("connection lookup", VtexHook.get_connection),
            ),
            mock.patch.object(
                AsyncVtexClient,
                "__init__",
                autospec=True,
                side_effect=recording("HTTP client", AsyncVtexClient.__init__),
            ),
            mock.patch.object(
                VtexHook, "__init__", autospec=True, side_effect=recording("hook", VtexHook.__init__)
            ),
        ):
            yield


class RecordingInFlight(order_feed.InFlight):
    """The trigger's own bound, recording the most items it let out unsettled."""

    peaks: ClassVar[list[int]] = []

    def handed(self, count: int) -> None:
        super().handed(count)
        RecordingInFlight.peaks.append(self.peak)


@pytest.mark.skipif(not order_feed.ACK_MODE, reason="ack mode is Airflow 3.3+")
def test_a_backlog_drains_through_airflows_shared_stream_without_overflow_or_repeat(
    vtex_sandbox_connection: Any,
) -> None:
    """3,000 orders waiting at once, read in 2 ms lots and handled by two watchers at 2 ms an event, each
    event confirmed stored half a second later: the producer never holds more than its bound unsettled,
    no watcher's queue (Airflow's default 1,024) overflows, each watcher sees each order once, every
    handle is committed, and nothing blocking runs on the event loop."""
    sandbox = vtex_sandbox_connection
    place_backlog(sandbox, BACKLOG)
    trigger = VtexOrderFeedTrigger(poll_interval=0.05, quiet_period=None, hook_params={"max_retries": 1})
    outcome = drain_through_shared_stream(trigger, BACKLOG, queue_size=1024, confirm_after=0.5)
    assert outcome["failures"] == []
    assert outcome["blocking steps on the loop"] == []
    for ids in outcome["seen"].values():
        assert len(ids) == BACKLOG
        assert len(set(ids)) == BACKLOG
    assert 0 < outcome["peak"] <= order_feed.DEFAULT_MAX_IN_FLIGHT
    feed = sandbox.stats()["feeds"][sandbox.app_key]
    assert feed["quantity"] == 0, feed
    assert feed["redelivered"] == 0, feed


@pytest.mark.skipif(not order_feed.ACK_MODE, reason="ack mode is Airflow 3.3+")
def test_without_the_bound_the_same_backlog_overflows_airflows_queue(vtex_sandbox_connection: Any) -> None:
    """The control: the same drain with a queue smaller than the bound the trigger was given (as if the
    trigger read as fast as VTEX answers) overflows, so the test above would see an overflow if there was
    one. ``in_flight_bound`` reads the queue size from Airflow's configuration; here the manager is given a
    smaller one than the configuration says."""
    sandbox = vtex_sandbox_connection
    place_backlog(sandbox, 1000)
    trigger = VtexOrderFeedTrigger(
        poll_interval=0.05, quiet_period=None, max_in_flight=500, hook_params={"max_retries": 1}
    )
    outcome = drain_through_shared_stream(trigger, 1000, queue_size=64, confirm_after=0.5)
    assert any("exceeded maxsize=64" in failure for failure in outcome["failures"]), outcome["failures"]


def test_the_standalone_loop_hands_over_at_most_the_bound_per_settle_window(
    vtex_sandbox_connection: Any,
) -> None:
    """Airflow 3.0-3.2 confirms nothing: the loop counts an item settled ``SETTLE_SECONDS`` after handing
    it over, so a backlog comes out at most ``max_in_flight`` items per window."""
    sandbox = vtex_sandbox_connection
    place_backlog(sandbox, 300)
    trigger = VtexOrderFeedTrigger(
        poll_interval=0.05, quiet_period=None, max_in_flight=100, hook_params={"max_retries": 1}
    )
    stamps: list[float] = []

    async def run() -> None:
        stream = trigger.run()
        try:
            async for _event in stream:
                stamps.append(time.monotonic())
                if len(stamps) >= 300:
                    break
        finally:
            await stream.aclose()

    asyncio.run(asyncio.wait_for(run(), timeout=60))
    window = order_feed.SETTLE_SECONDS
    busiest = max(sum(1 for t in stamps if start <= t < start + window) for start in stamps)
    assert busiest <= 100
    assert stamps[-1] - stamps[0] >= 2 * window * 0.9  # 300 items at 100 a window: three windows


# ---------------------------------------------------------------- an item the provider cannot read
def read_three_with_a_broken_middle(sandbox: Any) -> list[dict[str, Any]]:
    """Three orders made ready, their items handed out once by the sandbox's feed, and served again as a
    lot whose middle item has no orderId (the rest as VTEX wrote them)."""
    import requests

    sandbox.configure_feed(READY_FEED)
    for n in range(3):
        sandbox.place_order(f"DEAD-{n}-01", status="payment-approved")
        sandbox.move_order(f"DEAD-{n}-01", "ready-for-handling")
    lot = requests.get(
        f"{sandbox.url}/api/orders/feed?maxlot=3",
        headers={"X-VTEX-API-AppKey": sandbox.app_key, "X-VTEX-API-AppToken": sandbox.app_token},
        timeout=5,
    ).json()
    del lot[1]["orderId"]
    sandbox.add_fault("feed", "body", body=lot, count=1)
    return list(lot)


def test_an_unreadable_item_fires_a_dead_letter_event_and_the_good_orders_go_on(
    vtex_sandbox_connection: Any,
) -> None:
    """The issue's case through the trigger's own loop: both good orders fire, the middle item fires an
    ``unreadable`` event (what a DAG routes to a dead-letter task) and all three are committed."""
    sandbox = vtex_sandbox_connection
    first, middle, last = read_three_with_a_broken_middle(sandbox)
    trigger = VtexOrderFeedTrigger(poll_interval=0.02, quiet_period=0.02, hook_params={"max_retries": 0})
    events = run_until(trigger, 4)  # the lot's three, then a quiet event: the lot was committed by then
    assert [(event["kind"], event.get("order_id")) for event in events] == [
        ("order", first["orderId"]),
        ("order", last["orderId"]),
        ("unreadable", None),
        ("quiet", None),
    ]
    assert events[2] == {
        "kind": "unreadable",
        "event_id": middle["eventId"],
        "handle": middle["handle"],
        "order_id": None,
        "problems": ["orderId: is missing"],
        "kept": False,
    }
    (commit,) = [entry["body"]["handles"] for entry in sandbox.requests if entry["route"] == "feed_commit"]
    assert sorted(commit) == sorted(item["handle"] for item in (first, middle, last))
    assert sandbox.stats()["feeds"][sandbox.app_key]["quantity"] == 0


def test_with_keep_unreadable_the_dead_letter_event_fires_and_the_item_stays_in_the_feed(
    vtex_sandbox_connection: Any,
) -> None:
    sandbox = vtex_sandbox_connection
    first, _middle, last = read_three_with_a_broken_middle(sandbox)
    trigger = VtexOrderFeedTrigger(
        poll_interval=0.02, quiet_period=0.02, hook_params={"max_retries": 0}, keep_unreadable=True
    )
    events = run_until(trigger, 4)
    assert events[2]["kind"] == "unreadable"
    assert events[2]["kept"] is True
    (commit,) = [entry["body"]["handles"] for entry in sandbox.requests if entry["route"] == "feed_commit"]
    assert sorted(commit) == sorted([first["handle"], last["handle"]])
    assert sandbox.stats()["feeds"][sandbox.app_key]["quantity"] == 1  # VTEX hands it out again


def test_an_unreadable_item_fires_whatever_the_states_filter() -> None:
    trigger = VtexOrderFeedTrigger(states=["ready-for-handling"])
    unreadable: dict[str, Any] = {
        "kind": "unreadable",
        "event_id": "E9",
        "handle": "H9",
        "order_id": None,
        "problems": [],
    }

    async def stream() -> Any:
        yield {**unreadable, "kept": False}

    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.filter_shared_stream(stream())]

    assert asyncio.run(run()) == [{**unreadable, "kept": False}]
    assert trigger.settings.handle_to_commit({**unreadable, "kept": False}) == "H9"
    keeping = VtexOrderFeedTrigger(keep_unreadable=True).settings
    assert keeping.handle_to_commit({**unreadable, "kept": True}) is None
    assert keeping.handle_to_commit(ITEM) == "H1"
