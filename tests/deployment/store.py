"""What the deployment tests of the order feed ask the sandbox: how many orders were started, how often,
how long they waited, and what is left in the feed.

The sandbox keeps these figures itself (``stats()["workflow"]``, ``timeline()`` per order and
``stats()["feeds"]``); the tests read them rather than recomputing them from the request log. Each test's
sandbox holds only the orders the tests placed (no seed orders). Where one deployment drains one backlog
after another, each scenario reads its own figures through its :class:`Backlog`: the start-handling
calls of its orders only, and the feed's counters since it was placed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection
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


#: The feed's figures that are not counters since its configuration: what it holds right now.
FEED_LEVELS = frozenset({"quantity", "inFlight"})


def feed_figures(sandbox: Any) -> dict[str, Any]:
    """The AppKey's feed: ``quantity`` and ``inFlight`` now, and its counters since it was configured."""
    return dict(sandbox.stats()["feeds"].get(sandbox.app_key) or {})


@dataclass(frozen=True)
class Backlog:
    """The orders of one scenario and the feed's figures just before they were placed, so that the
    scenario's outcome counts its own orders' start-handling calls and the feed's counters since then
    (:meth:`StoreOutcome.of`), whatever an earlier scenario on the same deployment and sandbox did."""

    order_ids: frozenset[str]
    feed_before: dict[str, Any]

    def __len__(self) -> int:
        return len(self.order_ids)

    @classmethod
    def of(cls, order_ids: Collection[str], feed_before: dict[str, Any]) -> Backlog:
        return cls(frozenset(order_ids), feed_before)


def place_backlog(sandbox: Any, orders: int) -> Backlog:
    """``orders`` new orders made ready for handling at once (the store's simulation with no time between):
    a sale's first minutes, or the orders of an outage, waiting in the feed before anything reads it. Each
    call's orders have new ids (the simulation's number is part of them)."""
    feed_before = feed_figures(sandbox)
    day = sandbox.simulate(orders=orders, over_seconds=0, prefix="SALE")
    assert day.wait(300), "the backlog was not placed"
    assert day.progress()["reached"].get("ready-for-handling") == orders
    return Backlog.of(day.order_ids, feed_before)


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
    def of(cls, sandbox: Any, backlog: Backlog | None = None) -> StoreOutcome:
        """The whole store's figures, or only ``backlog``'s: its orders, and the feed's counters since it
        was placed (``quantity`` and ``inFlight`` stay what the feed holds: drained means drained)."""
        if backlog is not None:
            return cls._of_backlog(sandbox, backlog)
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

    @classmethod
    def _of_backlog(cls, sandbox: Any, backlog: Backlog) -> StoreOutcome:
        timeline = {oid: t for oid, t in sandbox.timeline().items() if oid in backlog.order_ids}
        calls = {oid: int(t["startHandling"]["calls"]) for oid, t in timeline.items()}
        waits = sorted(
            w for t in timeline.values() if (w := t.get("readyToStartHandlingSeconds")) is not None
        )
        feed = feed_figures(sandbox)
        for name, value in feed.items():
            if name not in FEED_LEVELS and isinstance(value, int):
                feed[name] = value - int(backlog.feed_before.get(name) or 0)
        return cls(
            orders=len(timeline),
            started=sum(1 for n in calls.values() if n),
            calls=sum(calls.values()),
            refused=sum(int(t["startHandling"]["refused"]) for t in timeline.values()),
            called_more_than_once={oid: n for oid, n in calls.items() if n > 1},
            waiting=sorted(oid for oid, t in timeline.items() if t["status"] == READY),
            waits={"p50": _rank(waits, 0.5), "p95": _rank(waits, 0.95), "max": waits[-1] if waits else None},
            feed=feed,
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


def _rank(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values (as the sandbox computes its own)."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else None


def wait_until_handled(
    sandbox: Any,
    expected_orders: int,
    timeout: float,
    alive: Callable[[], None] | None = None,
    backlog: Backlog | None = None,
) -> StoreOutcome:
    """Wait until every order (of the store, or of ``backlog``) was started and the feed is drained;
    returns the figures then. On timeout, the ``TimeoutError`` carries the figures reached."""
    started = time.monotonic()
    try:
        outcome: StoreOutcome = wait_for(
            f"{expected_orders} orders started and the feed drained",
            lambda: o if (o := StoreOutcome.of(sandbox, backlog)).complete(expected_orders) else None,
            timeout,
            interval=1.0,
            alive=alive,
        )
    except TimeoutError as exc:
        raise TimeoutError(
            f"{exc}; after {time.monotonic() - started:.0f} s: {StoreOutcome.of(sandbox, backlog).line()}"
        ) from None
    return outcome
