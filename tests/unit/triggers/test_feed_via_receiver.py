"""VtexOrderFeedTrigger(via_receiver=True), the feed as the order hook's backup: its standalone loop reads
the sandbox's feed and hands each order item to a stand-in receiver (a real HTTP server): on a 200 the
item is committed and not yielded; on a 4xx/5xx it is neither (VTEX hands it out again); with the
receiver unreachable, a change made after the outage began is yielded and committed as without the
receiver, an older one waits in the feed. The receiver's side is tested in
tests/integration/plugins/test_receiver.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("airflow.sdk", reason="event-driven scheduling needs Airflow 3")

from airflow_provider_vtex.compat import BaseEventTrigger

if BaseEventTrigger is None:  # pragma: no cover - Airflow 2
    pytest.skip("BaseEventTrigger needs Airflow 3", allow_module_level=True)

from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from airflow_provider_vtex.models.order_hook import SECRET_HEADER
from airflow_provider_vtex.triggers import feed_via_receiver
from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

SECRET = "stand-in-receiver-secret-0123456789"
READY_FEED = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
}


class StandInReceiver:
    """An HTTP server answering every POST with :attr:`status`, keeping what it was sent."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[tuple[dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.calls.append((dict(self.headers), json.loads(body)))
                answer = b'{"status": "stored"}'
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/vtex/order-hook/vtex_default"

    def order_ids(self) -> list[str]:
        return [body["FeedItem"]["order_id"] for _, body in self.calls]


@pytest.fixture
def receiver() -> Iterator[StandInReceiver]:
    stand_in = StandInReceiver()
    thread = threading.Thread(target=stand_in.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


@pytest.fixture
def sandbox(vtex_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sandbox with its feed, and ``vtex_default`` holding a hook secret and an account."""
    connection = json.loads(vtex_sandbox.airflow_connection())
    connection["extra"]["hook_secret"] = SECRET
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(connection))
    vtex_sandbox.configure_feed(READY_FEED)
    return vtex_sandbox


def make_ready(sandbox: Any, *order_ids: str) -> None:
    for order_id in order_ids:
        sandbox.place_order(order_id, status="payment-approved")
        sandbox.move_order(order_id, "ready-for-handling")


def in_feed(sandbox: Any) -> int:
    """Items in the feed not committed (handed out or not)."""
    return int(sandbox.stats()["feeds"][sandbox.app_key]["quantity"])


def record_route_log(monkeypatch: pytest.MonkeyPatch) -> list[logging.LogRecord]:
    """What the receiver route logs (Airflow 3 sends the trigger's log through structlog, out of caplog's
    reach): a stdlib logger of its own, recorded."""
    lines: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record)

    logger = logging.getLogger("test_feed_via_receiver.route")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    monkeypatch.setattr(logger, "handlers", [Recorder()])
    original = feed_via_receiver.ReceiverRoute.__init__

    def init(self: Any, client: Any, origin: Any, log: Any, **kwargs: Any) -> None:
        original(self, client, origin, logger, **kwargs)

    monkeypatch.setattr(feed_via_receiver.ReceiverRoute, "__init__", init)
    return lines


def trigger_for(url: str) -> VtexOrderFeedTrigger:
    return VtexOrderFeedTrigger(
        poll_interval=0.02,
        quiet_period=None,
        hook_params={"max_retries": 0},
        via_receiver=True,
        receiver_url=url,
    )


async def collect(trigger: VtexOrderFeedTrigger, until: Any, timeout: float = 20) -> list[dict[str, Any]]:
    """The events the trigger's standalone loop yields until ``until()`` holds (checked every 20 ms)."""
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    async def until_done() -> None:
        while not until():
            if task.done():
                task.result()  # the loop failed: raise its error
            await asyncio.sleep(0.02)

    task = asyncio.ensure_future(run())
    try:
        await asyncio.wait_for(until_done(), timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return events


def test_what_the_receiver_took_is_committed_and_not_yielded(sandbox: Any, receiver: StandInReceiver) -> None:
    make_ready(sandbox, "RCV-001-01", "RCV-002-01", "RCV-003-01")
    trigger = trigger_for(receiver.url)
    events = asyncio.run(collect(trigger, lambda: in_feed(sandbox) == 0))
    assert events == []
    assert sorted(receiver.order_ids()) == ["RCV-001-01", "RCV-002-01", "RCV-003-01"]
    headers, body = receiver.calls[0]
    assert headers[SECRET_HEADER] == SECRET
    assert body["Origin"] == {"Account": "sandbox", "Key": sandbox.app_key}
    assert set(body["FeedItem"]) >= {"order_id", "state", "handle", "event_id", "current_change"}


@pytest.mark.parametrize("status", [403, 429, 503])
def test_what_the_receiver_refused_is_neither_committed_nor_yielded(
    sandbox: Any,
    receiver: StandInReceiver,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("airflow_provider_vtex.client.receiver.MAX_RETRY_AFTER", 0.0)
    receiver.status = status
    lines = record_route_log(monkeypatch)
    make_ready(sandbox, "RCV-010-01", "RCV-011-01")
    events = asyncio.run(
        collect(trigger_for(receiver.url), lambda: len(set(receiver.order_ids())) == 2 and bool(lines))
    )
    assert events == []
    assert in_feed(sandbox) == 2  # left for VTEX to hand out again
    logged = " ".join(record.getMessage() for record in lines)
    assert f"answered {status}" in logged
    assert SECRET not in logged


def test_with_the_receiver_unreachable_only_changes_made_after_the_outage_are_stored_directly(
    sandbox: Any, receiver: StandInReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_via_receiver, "FALLBACK_MARGIN", 0.0)
    down_url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()  # nothing listens there any more: connections are refused
    make_ready(sandbox, "OLD-001-01")  # changed before the outage was seen: the hook may have it
    trigger = trigger_for(down_url)
    placed: list[str] = []

    def new_change_stored() -> bool:
        route_down = trigger_state.get("seen_down", False)
        if not placed and route_down:
            make_ready(sandbox, "NEW-001-01")
            placed.append("NEW-001-01")
        return bool(placed) and in_feed(sandbox) == 1

    trigger_state: dict[str, bool] = {}
    original = feed_via_receiver.ReceiverRoute._hand_over

    async def spying(self: Any, item: dict[str, Any]) -> Any:
        outcome = await original(self, item)
        trigger_state["seen_down"] = self.down_since is not None
        return outcome

    monkeypatch.setattr(feed_via_receiver.ReceiverRoute, "_hand_over", spying)
    events = asyncio.run(collect(trigger, new_change_stored))
    assert [(e["kind"], e["order_id"]) for e in events] == [("order", "NEW-001-01")]
    assert in_feed(sandbox) == 1  # OLD-001-01 waits for the receiver


def test_via_receiver_without_a_hook_secret_fails_at_once(vtex_sandbox_connection: Any) -> None:
    vtex_sandbox_connection.configure_feed(READY_FEED)
    with pytest.raises(VtexConnectionConfigError, match="hook_secret"):
        asyncio.run(collect(trigger_for("http://127.0.0.1:9/x"), lambda: False, timeout=5))


def test_the_receivers_address_defaults_to_the_api_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.internal:8080/")
    assert (
        feed_via_receiver.receiver_url("vtex_shop", None)
        == "http://airflow.internal:8080/vtex/order-hook/vtex_shop"
    )
    assert feed_via_receiver.receiver_url("vtex_shop", "http://x/y") == "http://x/y"
