"""The order feeds of an account: one configuration and one queue per AppKey, fed by every change of
every order.

VTEX keys the feed by the AppKey of the request ("The AppKey used in the integration must be the same
as the one used in the initial setup"): two integrations with two keys each have their own filter and
queue, and a commit through one key never touches the other's events.

Matching, as VTEX's OpenAPI file words it:

* ``FromWorkflow`` "will receive order updates only when order's statuses change": an event when the
  new status is in the filter's list;
* ``FromOrders`` "gets updates whenever any change is made to an order" -- a status move, an invoice,
  a tracking update: an event when the JSONata expression is true on the order after the change, the
  first time only for each order unless ``disableSingleFire`` is true ("If this field is false orders
  will appear in the feed only once").

One lock guards every queue: a read that hands events out and a commit are atomic, so concurrent
readers never receive the same visible event. :meth:`FeedHub.publish` runs under the order book's lock
and takes this one inside it; nothing here calls back into the book, so the two cannot deadlock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vtex_sandbox.errors import SandboxError, feed_not_configured
from vtex_sandbox.feed.config import FROM_WORKFLOW, FeedSettings
from vtex_sandbox.feed.queue import EventQueue

if TYPE_CHECKING:
    from vtex_sandbox.clock import SandboxClock
    from vtex_sandbox.model import OrderChange

#: How many expression failures a feed remembers (the count goes on).
_ERRORS_KEPT = 20


@dataclass
class Feed:
    """One AppKey's configuration, queue, and the orders a single-fire filter already let through."""

    settings: FeedSettings
    queue: EventQueue
    fired: set[str] = field(default_factory=set)
    expression_failures: int = 0
    last_failures: list[str] = field(default_factory=list)

    def wants(self, change: OrderChange, document: _Document) -> bool:
        """Whether this change makes an event in this feed (and, for a single-fire filter, remember it)."""
        feed_filter = self.settings.filter
        if feed_filter.type == FROM_WORKFLOW:
            return change.status_changed and change.state in feed_filter.statuses
        if not feed_filter.disable_single_fire and change.order_id in self.fired:
            return False
        assert feed_filter.expression is not None
        try:
            matched = feed_filter.expression.matches(document.get(), "filter.expression")
        except SandboxError as exc:
            # VTEX would not tell; the sandbox counts it where a test can see it (``stats()["feeds"]``).
            self.expression_failures += 1
            self.last_failures = [*self.last_failures, f"{change.order_id}: {exc.message}"][-_ERRORS_KEPT:]
            return False
        if matched:
            self.fired.add(change.order_id)
        return matched


class _Document:
    """The order after the change, rendered at most once however many FromOrders feeds read it."""

    def __init__(self, change: OrderChange) -> None:
        self._change = change
        self._value: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        if self._value is None:
            self._value = self._change.document()
        return self._value


def document_of(change: OrderChange) -> _Document:
    """The order after ``change``, rendered on first use (for another matcher of the feed's filters)."""
    return _Document(change)


class FeedHub:
    """Every AppKey's feed; the VTEX feed routes and the order book's changes meet here."""

    def __init__(self, clock: SandboxClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._feeds: dict[str, Feed] = {}

    # -- configuration (GET/POST/DELETE /api/orders/feed/config) -----------------------------------

    def configure(self, app_key: str, settings: FeedSettings) -> None:
        """Create or replace the AppKey's configuration. A replaced configuration keeps its queue (the
        new timers apply to the events already in it) and, if its filter is unchanged, its memory of
        the orders a single-fire filter already let through."""
        with self._lock:
            feed = self._feeds.get(app_key)
            if feed is None:
                self._feeds[app_key] = Feed(
                    settings, EventQueue(settings.visibility_timeout, settings.retention)
                )
                return
            if not feed.settings.filter.same_as(settings.filter):
                feed.fired = set()
            feed.settings = settings
            feed.queue.visibility_timeout = settings.visibility_timeout
            feed.queue.retention = settings.retention

    def settings_view(self, app_key: str) -> dict[str, Any]:
        with self._lock:
            feed = self._feed(app_key)
            now = self._clock.now()
            return feed.settings.view(feed.queue.quantity(now), round(feed.queue.oldest_age(now), 6))

    def delete(self, app_key: str) -> None:
        """Remove the configuration and its queue (its events are gone)."""
        with self._lock:
            self._feed(app_key)
            del self._feeds[app_key]

    # -- the queue (GET/POST /api/orders/feed) -----------------------------------------------------

    def receive(self, app_key: str, max_lot: int) -> list[dict[str, Any]]:
        with self._lock:
            return self._feed(app_key).queue.receive(max_lot, self._clock.now())

    def commit(self, app_key: str, handles: list[str]) -> int:
        with self._lock:
            return self._feed(app_key).queue.commit(handles)

    # -- the order book's side ---------------------------------------------------------------------

    def publish(self, change: OrderChange) -> None:
        """Offer one order change to every feed; each that wants it queues an event."""
        with self._lock:
            if not self._feeds:
                return
            now = self._clock.now()
            document = _Document(change)
            for feed in self._feeds.values():
                if feed.wants(change, document):
                    feed.queue.push(change, now)

    # -- the sandbox's own views -------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Per AppKey (a key is not a secret; its token is): the filter, the queue's size, what is
        handed out right now, and the counters since the configuration was made."""
        with self._lock:
            now = self._clock.now()
            return {
                app_key: {
                    "filter": feed.settings.filter.view(),
                    "quantity": feed.queue.quantity(now),
                    "inFlight": feed.queue.in_flight(now),
                    **feed.queue.counters,
                    "expressionFailures": feed.expression_failures,
                    "lastExpressionFailures": list(feed.last_failures),
                }
                for app_key, feed in self._feeds.items()
            }

    def clear(self) -> None:
        with self._lock:
            self._feeds.clear()

    def _feed(self, app_key: str) -> Feed:
        feed = self._feeds.get(app_key)
        if feed is None:
            raise feed_not_configured()
        return feed
