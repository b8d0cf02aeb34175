"""One AppKey's event queue, with the semantics of the queue behind VTEX's feed (Amazon SQS: the feed
hands out SQS receipt handles).

* A read hands out up to ``maxlot`` VISIBLE events, oldest first; each becomes invisible for the
  visibility timeout and gets a NEW handle (every hand-out makes a new one, as SQS does).
* A commit removes the events whose CURRENT handles it names. A superseded handle -- one from an earlier
  hand-out of an event that was handed out again since -- removes nothing (SQS: "the message might not
  be deleted"): a reader that commits after its visibility timeout, once another reader got the event,
  sees it come back. That is the strict reading of SQS's contract, and it is what makes a client prove
  it can take the same event twice (VTEX: "events can be duplicated"). An unknown or already
  committed handle is not an error either.
* An event older than the retention period disappears, handed out or not; so does an event handed out
  :data:`MAX_DELIVERIES` times without a commit, when it would be handed out once more (VTEX: a status
  event is removed if it "can't deliver a message more than 100 times").

At a sale day's scale (a backlog of tens of thousands of events, hundreds handed out at once) a read
costs O(lot x log n): the visible events wait in a heap by arrival, the handed-out ones in a heap by the
moment they become visible again, so a read never walks past the events in flight.

Not thread-safe by itself: :class:`~vtex_sandbox.feed.hub.FeedHub` holds one lock
around every call, which is what makes concurrent readers never get the same visible event twice.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtex_sandbox.model import OrderChange

MAX_LOT = 10
MAX_DELIVERIES = 100
#: VTEX's feed names the OMS domain an event comes from; the sandbox plays a store fulfilling its own
#: orders (VTEX's example event says "Fulfillment").
DOMAIN = "Fulfillment"


def new_handle() -> str:
    """An opaque handle shaped like VTEX's (base64 of random bytes, with ``+``, ``/`` and ``=``)."""
    return base64.b64encode(secrets.token_bytes(96)).decode()


@dataclass
class FeedEvent:
    """One event and its life in the queue (times are :class:`SandboxClock` seconds)."""

    event_id: str
    order_id: str
    state: str
    last_state: str
    last_change: str
    current_change: str
    enqueued_at: float
    visible_at: float
    handle: str | None = None
    deliveries: int = 0
    arrival: int = 0

    def view(self) -> dict[str, Any]:
        """As ``GET /api/orders/feed`` answers it (VTEX's ``Getfeedorderstatus`` schema)."""
        return {
            "eventId": self.event_id,
            "handle": self.handle,
            "domain": DOMAIN,
            "state": self.state,
            "lastState": self.last_state,
            "orderId": self.order_id,
            "lastChange": self.last_change,
            "currentChange": self.current_change,
        }


class EventQueue:
    """Events in arrival order, the current handle of each handed-out event, and counters for tests."""

    def __init__(self, visibility_timeout: int, retention: int) -> None:
        self.visibility_timeout = visibility_timeout
        self.retention = retention
        self._events: OrderedDict[str, FeedEvent] = OrderedDict()
        self._by_handle: dict[str, str] = {}
        self._arrivals = itertools.count()
        #: (arrival, event id) of events that may be visible: the oldest first.
        self._visible: list[tuple[int, str]] = []
        #: (visible again at, arrival, event id) of handed-out events; entries of committed or re-handed
        #: events are skipped when they surface (their event is gone or shows another ``visible_at``).
        self._hidden: list[tuple[float, int, str]] = []
        self.counters = {
            "enqueued": 0,
            "handedOut": 0,
            "redelivered": 0,
            "committed": 0,
            "commitsWithoutEffect": 0,
            "expired": 0,
            "droppedAfterMaxDeliveries": 0,
        }

    def push(self, change: OrderChange, now: float) -> None:
        event = FeedEvent(
            event_id=uuid.uuid4().hex.upper(),
            order_id=change.order_id,
            state=change.state,
            last_state=change.last_state,
            last_change=change.last_change,
            current_change=change.current_change,
            enqueued_at=now,
            visible_at=now,
            arrival=next(self._arrivals),
        )
        self._events[event.event_id] = event
        heapq.heappush(self._visible, (event.arrival, event.event_id))
        self.counters["enqueued"] += 1

    def receive(self, max_lot: int, now: float) -> list[dict[str, Any]]:
        """Hand out up to ``max_lot`` visible events, oldest first, each with a new handle."""
        self._expire(now)
        self._surface(now)
        handed: list[dict[str, Any]] = []
        while self._visible and len(handed) < max_lot:
            _, event_id = heapq.heappop(self._visible)
            event = self._events.get(event_id)
            if event is None or event.visible_at > now:  # committed, expired, or already handed out
                continue
            if event.deliveries >= MAX_DELIVERIES:
                self._drop(event, "droppedAfterMaxDeliveries")
                continue
            if event.handle is not None:
                del self._by_handle[event.handle]
                self.counters["redelivered"] += 1
            event.handle = new_handle()
            self._by_handle[event.handle] = event.event_id
            event.deliveries += 1
            event.visible_at = now + self.visibility_timeout
            heapq.heappush(self._hidden, (event.visible_at, event.arrival, event.event_id))
            self.counters["handedOut"] += 1
            handed.append(event.view())
        return handed

    def _surface(self, now: float) -> None:
        """Move the handed-out events whose visibility timeout ran out back among the visible ones."""
        while self._hidden and self._hidden[0][0] <= now:
            visible_at, arrival, event_id = heapq.heappop(self._hidden)
            event = self._events.get(event_id)
            if event is not None and event.visible_at == visible_at:
                heapq.heappush(self._visible, (arrival, event_id))

    def commit(self, handles: list[str]) -> int:
        """Remove the events these handles currently name; returns how many were removed."""
        removed = 0
        for handle in handles:
            event_id = self._by_handle.pop(handle, None)
            if event_id is None or self._events.pop(event_id, None) is None:
                self.counters["commitsWithoutEffect"] += 1
                continue
            removed += 1
        self.counters["committed"] += removed
        return removed

    def quantity(self, now: float) -> int:
        """Events in the queue, the invisible (handed out, not committed) included."""
        self._expire(now)
        return len(self._events)

    def in_flight(self, now: float) -> int:
        """Events handed out and still invisible."""
        self._expire(now)
        return sum(1 for e in self._events.values() if e.visible_at > now)

    def oldest_age(self, now: float) -> float:
        """Seconds since the oldest event entered the queue (0 when it is empty)."""
        self._expire(now)
        oldest = next(iter(self._events.values()), None)
        return 0.0 if oldest is None else max(now - oldest.enqueued_at, 0.0)

    def _expire(self, now: float) -> None:
        """Drop the events past the retention period: the oldest are first (the clock never goes back)."""
        while self._events:
            oldest = next(iter(self._events.values()))
            if now - oldest.enqueued_at < self.retention:
                return
            self._drop(oldest, "expired")

    def _drop(self, event: FeedEvent, counter: str) -> None:
        del self._events[event.event_id]
        if event.handle is not None:
            self._by_handle.pop(event.handle, None)
        self.counters[counter] += 1
