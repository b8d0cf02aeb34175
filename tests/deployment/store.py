"""What the deployment tests of the order feed ask the sandbox: how many orders were started, how often,
how long they waited, and what is left in the feed.

The sandbox keeps these figures itself (``stats()["workflow"]`` and ``stats()["feeds"]``); the tests read
them rather than recomputing them from the request log. Each test's sandbox holds only the orders the
test placed (no seed orders), so the store-wide figures are the test's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.deployment.processes import wait_for

READY = "ready-for-handling"


def ready_feed(visibility_timeout: int) -> dict[str, Any]:
    """The feed configuration of an ERP integration: every order that becomes ready for handling."""
    return {
        "filter": {"type": "FromWorkflow", "status": [READY]},
        "queue": {
            "visibilityTimeoutInSeconds": visibility_timeout,
            "MessageRetentionPeriodInSeconds": 3600,
        },
    }


def place_backlog(sandbox: Any, orders: int) -> None:
    """``orders`` orders made ready for handling at once (the store's simulation with no time between):
    a sale's first minutes, or the orders of an outage, waiting in the feed before anything reads it."""
    day = sandbox.simulate(orders=orders, over_seconds=0, prefix="SALE")
    assert day.wait(300), "the backlog was not placed"
    assert day.progress()["reached"].get("ready-for-handling") == orders


@dataclass(frozen=True)
class StoreOutcome:
    """Start-handling across the store and the state of the AppKey's feed, at one moment."""

    orders: int
    started: int
    calls: int
    refused: int
    called_more_than_once: dict[str, int]
    waiting: list[str]
    waits: dict[str, Any]
    feed: dict[str, Any]

    @classmethod
    def of(cls, sandbox: Any) -> StoreOutcome:
        stats = sandbox.stats()
        workflow = stats["workflow"]
        calls = workflow["startHandling"]
        return cls(
            orders=len(sandbox.timeline()),
            started=int(calls["orders"]),
            calls=int(calls["calls"]),
            refused=int(calls["refused"]),
            called_more_than_once=dict(calls["ordersCalledMoreThanOnce"]),
            waiting=list(workflow["waitingInReadyForHandling"]),
            waits=dict(workflow["readyToStartHandlingSeconds"]),
            feed=dict(stats["feeds"].get(sandbox.app_key) or {}),
        )

    @property
    def lost(self) -> int:
        """Orders never started (still ready for handling, or never reached by anyone)."""
        return self.orders - self.started

    @property
    def feed_drained(self) -> bool:
        """Every event committed: nothing left in the queue, nothing handed out and not committed."""
        return self.feed.get("quantity") == 0 and self.feed.get("inFlight") == 0

    def complete(self, expected_orders: int) -> bool:
        return self.orders == expected_orders and self.started == expected_orders and self.feed_drained

    def line(self) -> str:
        """The figures in one line, for reports and failure messages."""
        waits = self.waits
        return (
            f"{self.started}/{self.orders} orders started, {self.calls} start-handling calls "
            f"({self.refused} refused), {len(self.called_more_than_once)} orders called more than once, "
            f"{len(self.waiting)} still ready-for-handling; wait ready -> start-handling p50 {waits.get('p50')} s, "
            f"p95 {waits.get('p95')} s, max {waits.get('max')} s; feed: {self.feed.get('quantity')} queued, "
            f"{self.feed.get('inFlight')} in flight, {self.feed.get('enqueued')} enqueued, "
            f"{self.feed.get('committed')} committed, {self.feed.get('redelivered')} redelivered"
        )


def wait_until_handled(
    sandbox: Any, expected_orders: int, timeout: float, alive: Callable[[], None] | None = None
) -> StoreOutcome:
    """Wait until every order was started and the feed is drained; returns the figures then. On timeout,
    the ``TimeoutError`` carries the figures reached."""
    started = time.monotonic()
    try:
        outcome: StoreOutcome = wait_for(
            f"{expected_orders} orders started and the feed drained",
            lambda: o if (o := StoreOutcome.of(sandbox)).complete(expected_orders) else None,
            timeout,
            interval=1.0,
            alive=alive,
        )
    except TimeoutError as exc:
        raise TimeoutError(
            f"{exc}; after {time.monotonic() - started:.0f} s: {StoreOutcome.of(sandbox).line()}"
        ) from None
    return outcome
