"""VtexOrderFeedTrigger: VTEX's order feed as an Airflow 3 asset watcher, so orders start DAG runs.

Use it in an ``AssetWatcher``; every feed item becomes a ``TriggerEvent``, hence an asset event that
starts the DAGs scheduled on the asset (they find the items in ``triggering_asset_events``)::

    orders = Asset("vtex_orders", watchers=[AssetWatcher(name="vtex_feed", trigger=VtexOrderFeedTrigger())])

**When a feed item is committed** (VTEX's feed redelivers an item not committed within its visibility
timeout):

* **Airflow 3.3+, ack mode.** The trigger shares one poll per connection between all its watchers
  (``shared_stream_key``: VTEX's feed is one queue per AppKey) and commits an item's handle in the
  producer's ``advance()``, which Airflow calls only for items whose trigger events were confirmed stored
  in the metadata database. An item a watcher rejects (``states`` filter) is committed and logged as
  dropped; an item that failed (not stored in time, or the triggerer died) is not committed, so VTEX hands
  it out again after the visibility timeout. Nothing is lost, even when the triggerer is killed.
* **Airflow 3.0 to 3.2 (no ack mode).** The trigger commits an item right after handing its event to
  the triggerer. If the triggerer dies between the two, the event was neither stored nor will it be
  redelivered: the item is lost to the asset. Guard against it with a periodic reconciliation run that
  lists ``ready-for-handling`` orders not yet handled (the example DAG does, on every Airflow).

**Backpressure: never more items in Airflow's hands than it can absorb.** Airflow hands each raw item to
every watcher through a bounded queue (``[triggerer] shared_stream_subscriber_queue_size``, 1,024 by
default) and fails a watcher whose queue overflows: its unconfirmed items come back after VTEX's
visibility timeout, and each comes back as a second asset event, hence a second run for the same order.
A backlog (a sale's first minutes, or an hour of orders after an outage) is read far faster than
Airflow stores events, so the trigger bounds what it holds: it reads the next lot only while fewer than
``max_in_flight`` items (default :data:`DEFAULT_MAX_IN_FLIGHT`, 200) were handed out and not yet
settled by Airflow, and never more than half the configured queue size. An item waits in a watcher's
queue only while it is unsettled, so no queue can hold more than the bound: no overflow, whatever the
backlog and however fast VTEX answers. 200 is twenty lots: at Airflow's usual confirmation delay (one
or two triggerer sync rounds, about a second) it lets through 100 to 200 orders a second, above what a
deployment stores end to end, while leaving four fifths of the default queue free. On Airflow 3.0-3.2
(no confirmations) the standalone loop keeps at most ``max_in_flight`` items handed out within any
:data:`SETTLE_SECONDS` window: Airflow stores an event within a sync round or two, so the bound holds
in the same sense.

Each lot read is its own advance lane (see ``SharedStreamProducer.get_advance_lane``): a lot whose events
Airflow is slow to confirm holds back only its own commit, not those of the lots read after it.

**Events stored but attached to no DAG run.** Airflow creates an asset-triggered run from the events
stored up to the moment its queue entry was made (``AssetDagRunQueue.created_at``), then deletes the
entry; events stored in between, typically while an earlier run was still active under
``max_active_runs``, are attached to no run until a later event makes a new entry (apache/airflow#56050,
#54659). After a burst no later event may come until the next order, maybe the next morning. So once
the feed has been quiet for ``quiet_period`` seconds after a burst the trigger emits a
``{"kind": "quiet"}`` event (no order), a new event that makes the scheduler create a run taking the
stranded events; and since that event may itself arrive while a run is active and be stranded with them,
it repeats at 2, 4, 8, 16 and 32 times the period (:data:`QUIET_EVENTS` in all, 5 s to 160 s by default),
then stays silent until the next item. Measured with a 5,000-order backlog: 531 events, the first quiet
event among them, stranded by the last run of the burst; the later quiet events start the run that
takes them. The example DAG also reconciles with VTEX's list of ready orders on every run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import (
    BaseEventTrigger,
    SharedStreamProducer,
    TriggerEvent,
    reject_shared_stream_event,
)
from airflow_provider_vtex.exceptions import VtexError
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID
from airflow_provider_vtex.models.feed import MAX_LOT

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Hashable, Sequence

    from airflow_provider_vtex.triggers.feed_via_receiver import ReceiverRoute

if BaseEventTrigger is None:  # pragma: no cover - Airflow 2 has no event-driven scheduling
    raise ImportError(
        "VtexOrderFeedTrigger needs Airflow 3 (event-driven scheduling with AssetWatcher); on Airflow 2 read "
        "the feed with VtexReadOrderFeedOperator in a scheduled DAG instead."
    )

#: Whether this Airflow offers shared streams in ack mode (3.3+).
ACK_MODE = SharedStreamProducer is not None and "create_shared_stream_producer" in vars(BaseEventTrigger)
QUIET = "quiet"
#: The kind of the event fired for a feed item the provider cannot read (see the class docstring).
UNREADABLE = "unreadable"
#: Items handed to Airflow and not yet settled, at most (see the module docstring for why 200).
DEFAULT_MAX_IN_FLIGHT = 200
#: Airflow's default per-watcher queue (``[triggerer] shared_stream_subscriber_queue_size``).
AIRFLOW_DEFAULT_QUEUE_SIZE = 1024
#: Without confirmations (Airflow 3.0-3.2), the seconds after which an item handed over counts as stored.
SETTLE_SECONDS = 2.0
#: Defaults that keep the steady-state latency low: read every second while the feed is empty (3,600 empty
#: reads an hour per AppKey, VTEX's feed being one queue per AppKey), and the tail guard 5 s after a burst.
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_QUIET_PERIOD = 5.0
#: Quiet events after a burst: at 1, 2, 4, 8, 16 and 32 times ``quiet_period`` (5 s to 160 s by default).
QUIET_EVENTS = 6


@dataclass(frozen=True)
class FeedSettings:
    """The trigger's settings, as serialized (one source for the trigger, the poller and the producer)."""

    vtex_conn_id: str = DEFAULT_CONN_ID
    max_lot: int = MAX_LOT
    poll_interval: float = DEFAULT_POLL_INTERVAL
    states: tuple[str, ...] | None = None
    quiet_period: float | None = DEFAULT_QUIET_PERIOD
    hook_params: dict[str, Any] = field(default_factory=dict)
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    keep_unreadable: bool = False
    via_receiver: bool = False
    receiver_url: str | None = None

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> FeedSettings:
        states = kwargs.get("states")
        return cls(
            vtex_conn_id=kwargs.get("vtex_conn_id", DEFAULT_CONN_ID),
            max_lot=int(kwargs.get("max_lot", MAX_LOT)),
            poll_interval=float(kwargs.get("poll_interval", DEFAULT_POLL_INTERVAL)),
            states=tuple(states) if states is not None else None,
            quiet_period=kwargs.get("quiet_period", DEFAULT_QUIET_PERIOD),
            hook_params=dict(kwargs.get("hook_params") or {}),
            max_in_flight=int(kwargs.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT)),
            keep_unreadable=bool(kwargs.get("keep_unreadable", False)),
            via_receiver=bool(kwargs.get("via_receiver", False)),
            receiver_url=kwargs.get("receiver_url"),
        )

    def to_kwargs(self) -> dict[str, Any]:
        return {
            "vtex_conn_id": self.vtex_conn_id,
            "max_lot": self.max_lot,
            "poll_interval": self.poll_interval,
            "states": list(self.states) if self.states is not None else None,
            "quiet_period": self.quiet_period,
            "hook_params": self.hook_params,
            "max_in_flight": self.max_in_flight,
            "keep_unreadable": self.keep_unreadable,
            "via_receiver": self.via_receiver,
            "receiver_url": self.receiver_url,
        }

    def in_flight_bound(self) -> int:
        """``max_in_flight``, capped at half of Airflow's per-watcher queue as this deployment sets it."""
        from airflow_provider_vtex.compat import conf

        queue_size: int = conf.getint(
            "triggerer", "shared_stream_subscriber_queue_size", fallback=AIRFLOW_DEFAULT_QUEUE_SIZE
        )
        return max(self.max_lot, min(self.max_in_flight, queue_size // 2))

    def wanted(self, item: dict[str, Any]) -> bool:
        """Whether ``item`` fires an event: a quiet marker and an unreadable item always do (a state filter
        cannot judge an item whose state may be what is wrong with it), an order when its state is wanted."""
        if item.get("kind") in (QUIET, UNREADABLE):
            return True
        return self.states is None or item.get("state") in self.states

    def handle_to_commit(self, item: dict[str, Any]) -> str | None:
        """The handle to commit once ``item`` is settled: none for a quiet marker, an unreadable item kept
        by ``keep_unreadable`` or one without a handle that can be committed."""
        if item.get("kind") == UNREADABLE and self.keep_unreadable:
            return None
        handle = item.get("handle")
        return handle if isinstance(handle, str) and handle else None


class InFlight:
    """How many items were handed to Airflow and not yet settled; :meth:`room` waits below the bound.

    In ack mode Airflow settles items itself (the producer's ``advance()``). Without ack mode (Airflow
    3.0-3.2) nothing is confirmed, so an item counts as settled :data:`SETTLE_SECONDS` after it was handed
    over (pass ``settle_after``): at most ``bound`` items are handed over in any such window.
    """

    def __init__(self, bound: int, settle_after: float | None = None) -> None:
        self.bound = bound
        self.settle_after = settle_after
        self.count = 0
        self.peak = 0
        self._handed_at: deque[tuple[float, int]] = deque()
        self._settled = asyncio.Event()

    async def room(self, needed: int) -> None:
        """Return once ``needed`` more items fit under the bound."""
        while True:
            self._settle_expired()
            if self.count + needed <= self.bound:
                return
            self._settled.clear()
            if self.settle_after is None:
                await self._settled.wait()
            else:
                await asyncio.sleep(max(self._handed_at[0][0] + self.settle_after - time.monotonic(), 0.01))

    def handed(self, count: int) -> None:
        self.count += count
        self.peak = max(self.peak, self.count)
        if self.settle_after is not None and count:
            self._handed_at.append((time.monotonic(), count))

    def settled(self, count: int) -> None:
        self.count = max(self.count - count, 0)
        self._settled.set()

    def _settle_expired(self) -> None:
        if self.settle_after is None:
            return
        now = time.monotonic()
        while self._handed_at and now - self._handed_at[0][0] >= self.settle_after:
            self.settled(self._handed_at.popleft()[1])


class _Poller:
    """Reads the feed forever: lots of items, then a quiet marker once a burst has been quiet for a while.

    Retryable failures (outages, rate limits) are logged and polled again; the others (no feed
    configuration, a refused key) are raised, since polling on cannot fix them.
    """

    def __init__(self, settings: FeedSettings, log: Any, in_flight: InFlight) -> None:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        self.settings = settings
        self.log = log
        self.in_flight = in_flight
        self.hook = VtexHook(vtex_conn_id=settings.vtex_conn_id, **settings.hook_params)
        #: The order hook's receiver, when the feed is its backup (``via_receiver``).
        self.receiver: ReceiverRoute | None = None
        if settings.via_receiver:
            from airflow_provider_vtex.triggers.feed_via_receiver import ReceiverRoute

            self.receiver = ReceiverRoute.for_connection(
                self.hook.config, settings.vtex_conn_id, settings.receiver_url, log
            )

    @classmethod
    async def open(cls, settings: FeedSettings, log: Any, in_flight: InFlight) -> _Poller:
        """A poller built in a thread: importing the hook's modules blocks for tens of milliseconds, which
        the triggerer's event loop (shared by every trigger) should not wait on."""
        return await asyncio.to_thread(cls, settings, log, in_flight)

    async def lots(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each non-empty lot of items, and ``[{"kind": "quiet"}]`` after a burst went quiet.

        Readable items come as their :meth:`~airflow_provider_vtex.models.feed.FeedItem.to_xcom`; an item
        the provider cannot read as ``{"kind": "unreadable", ...}`` (reported by the hook), after them.

        A full lot is followed by the next read at once (a backlog drains at the pace Airflow settles
        items); an empty or short one by ``poll_interval``. Each lot yielded counts as handed over.
        """
        last_item_at: float | None = None
        quiet_sent = 0
        while True:
            await self.in_flight.room(self.settings.max_lot)
            lot: list[dict[str, Any]] = []
            try:
                read = await self.hook.aread_feed_lot(self.settings.max_lot)
            except VtexError as exc:
                if not exc.retryable:
                    raise
                self.log.warning("Could not read VTEX's order feed this time (%s); will read again.", exc)
            else:
                self.hook.report_unreadable(read.unreadable, keep=self.settings.keep_unreadable)
                lot = [item.to_xcom() for item in read.items] + [
                    {"kind": UNREADABLE, **item.to_xcom(), "kept": self.settings.keep_unreadable}
                    for item in read.unreadable
                ]
            if lot:
                last_item_at, quiet_sent = time.monotonic(), 0
                self.in_flight.handed(len(lot))
                yield lot
            elif self._quiet_due(last_item_at, quiet_sent):
                quiet_sent += 1
                self.in_flight.handed(1)
                yield [{"kind": QUIET}]
            if len(lot) < self.settings.max_lot:  # drained for now
                await asyncio.sleep(self.settings.poll_interval)

    def _quiet_due(self, last_item_at: float | None, quiet_sent: int) -> bool:
        """Whether the next quiet event is due: ``quiet_period``, then twice, four times... that long after
        the last item, :data:`QUIET_EVENTS` in all (see the module docstring for why more than one)."""
        quiet = self.settings.quiet_period
        if not quiet or last_item_at is None or quiet_sent >= QUIET_EVENTS:
            return False
        return bool(time.monotonic() - last_item_at >= float(quiet) * (2**quiet_sent))

    async def commit(self, handles: Sequence[str]) -> None:
        if handles:
            await self.hook.acommit_feed_items(list(handles))

    async def aclose(self) -> None:
        if self.receiver is not None:
            await self.receiver.aclose()
        await self.hook.aclose()


class VtexOrderFeedTrigger(BaseEventTrigger):  # type: ignore[misc,valid-type]  # None on Airflow 2
    """Fire one event per VTEX order-feed item, committing each item only when it is safe.

    Event payloads (a DAG finds each in ``triggering_asset_events[asset][n].extra["payload"]``; Airflow
    stores the event as ``{"from_trigger": True, "payload": {...}}``):

    * ``{"kind": "order", "vtex_conn_id", "order_id", "state", "last_state", "handle", "event_id",
      "last_change", "current_change", "domain"}``: an order changed (``vtex_conn_id``: the account it
      belongs to, for a DAG that watches several);
    * ``{"kind": "quiet"}`` after a burst (see the module docstring for why);
    * ``{"kind": "unreadable", "event_id", "handle", "order_id", "problems", "kept"}``: a feed item the
      provider cannot read (a field missing or of the wrong type, an oversized value), set aside so the
      rest of its lot goes on, for a dead-letter task to record. ``problems`` lists ``"field: what is
      wrong"`` (never the item's body); ``event_id``, ``handle`` and ``order_id`` are the item's own when
      usable, else ``None``. The item is committed once its event is handed over, like an order's, unless
      ``keep_unreadable`` (``kept`` is then ``True``: commit ``handle`` once it is dealt with). It also
      gives a warning and the ``vtex.feed.items_unreadable`` metric.

    :param vtex_conn_id: the ``vtex`` connection; its AppKey's feed is read. Configure the feed first
        (``VtexHook.set_feed_config``), e.g. ``FromWorkflow`` with ``["ready-for-handling"]``.
    :param max_lot: items per read (1 to 10).
    :param poll_interval: seconds between reads while the feed is empty or a lot came back short (a full
        lot is followed by the next read at once). Default 1 s: 3,600 empty reads an hour per AppKey.
    :param states: only items with one of these states fire events; the others are committed and logged
        as dropped. ``None`` (default): every item.
    :param quiet_period: seconds without a new item after a burst before the first ``quiet`` event (then
        at 2, 4, 8, 16 and 32 times that); ``None`` or 0 disables them. Default 5 s: the tail of a burst
        reaches a run within seconds.
    :param hook_params: keyword arguments for the hook (JSON-serialisable).
    :param max_in_flight: items handed to Airflow and not yet settled, at most (default 200; capped at
        half of ``[triggerer] shared_stream_subscriber_queue_size``). See the module docstring.
    :param keep_unreadable: leave an unreadable item in the feed instead of committing it (VTEX then hands
        it out again, and the trigger fires its ``unreadable`` event again, after every visibility
        timeout until the queue's retention drops it). Default ``False``: committed.
    :param via_receiver: run as the order hook's backup (Airflow 3, the connection holding a
        ``hook_secret``): hand each order item to the hook's receiver in the API server, which stores it
        unless the hook stored the same change first, and commit it on the receiver's 200; store it
        directly only while the receiver is unreachable (see ``feed_via_receiver.py`` and
        docs/order-hook.md). Default ``False``: every item is stored directly, as ever.
    :param receiver_url: the receiver's address as the triggerer reaches it; default
        ``[api] base_url`` + ``/vtex/order-hook/<vtex_conn_id>``.
    """

    def __init__(
        self,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        max_lot: int = MAX_LOT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        states: Sequence[str] | None = None,
        quiet_period: float | None = DEFAULT_QUIET_PERIOD,
        hook_params: dict[str, Any] | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        keep_unreadable: bool = False,
        via_receiver: bool = False,
        receiver_url: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        if not 1 <= int(max_lot) <= MAX_LOT:
            raise ValueError(
                f"max_lot must be from 1 to {MAX_LOT} (VTEX's feed hands out at most 10); got {max_lot!r}"
            )
        if int(max_in_flight) < int(max_lot):
            raise ValueError(
                f"max_in_flight must be at least max_lot ({max_lot}): the trigger reads whole lots; "
                f"got {max_in_flight!r}"
            )
        self.settings = FeedSettings(
            vtex_conn_id=vtex_conn_id,
            max_lot=int(max_lot),
            poll_interval=float(poll_interval),
            states=tuple(states) if states is not None else None,
            quiet_period=quiet_period,
            hook_params=dict(hook_params or {}),
            max_in_flight=int(max_in_flight),
            keep_unreadable=bool(keep_unreadable),
            via_receiver=bool(via_receiver),
            receiver_url=receiver_url,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", self.settings.to_kwargs()

    # ------------------------------------------------------------------ Airflow 3.0 to 3.2 (and tests)
    async def run(self) -> AsyncGenerator[Any, None]:
        """The standalone loop: each item's event is handed to the triggerer, then its handle committed."""
        in_flight = InFlight(self.settings.in_flight_bound(), settle_after=SETTLE_SECONDS)
        poller = await _Poller.open(self.settings, self.log, in_flight)
        try:
            async for lot in poller.lots():
                if poller.receiver is not None:  # what the receiver took is committed; it settles by time
                    lot, taken = await poller.receiver.split(lot, self.settings.wanted)
                    await poller.commit(taken)
                for item in lot:
                    if self.settings.wanted(item):
                        yield _event(item, self.settings.vtex_conn_id)
                    else:
                        self.log.info(
                            "Dropped feed item %s of order %s: state %s not wanted.",
                            item["event_id"],
                            item["order_id"],
                            item["state"],
                        )
                await poller.commit([h for h in map(self.settings.handle_to_commit, lot) if h is not None])
        finally:
            await poller.aclose()

    # ------------------------------------------------------------------ Airflow 3.3+: ack mode
    def shared_stream_key(self) -> Hashable | None:
        """One poll per connection (VTEX's feed is one queue per AppKey), where ack mode exists."""
        return ("airflow-provider-vtex:order-feed", self.settings.vtex_conn_id) if ACK_MODE else None

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> Any:
        return _FeedProducer(FeedSettings.from_kwargs(kwargs))

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in shared_stream:
            if self.settings.wanted(item):
                yield _event(item, self.settings.vtex_conn_id)
            else:  # committed by the producer, as dropped
                reject_shared_stream_event()


def _event(item: dict[str, Any], vtex_conn_id: str) -> Any:
    payload = (
        item
        if item.get("kind") in (QUIET, UNREADABLE)
        else {"kind": "order", "vtex_conn_id": vtex_conn_id, **item}
    )
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


if ACK_MODE:

    class _FeedProducer(SharedStreamProducer):  # type: ignore[misc,valid-type]
        """The broker side in ack mode: reads the feed, commits a handle only once Airflow stored every
        trigger event derived from its item (or every watcher rejected it), and reads on only while fewer
        than the bound of items are unsettled (see the module docstring)."""

        def __init__(self, settings: FeedSettings) -> None:
            import structlog

            self.settings = settings
            self.log = structlog.get_logger(__name__)
            self.in_flight = InFlight(settings.in_flight_bound())
            self.poller: _Poller | None = None
            self._lot_numbers = itertools.count()

        async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
            self.poller = await _Poller.open(self.settings, self.log, self.in_flight)
            async for read in self.poller.lots():
                lot = read
                if self.poller.receiver is not None:  # the receiver took, or left, the others: settled
                    lot, taken = await self.poller.receiver.split(read)
                    self.in_flight.settled(len(read) - len(lot))
                    await self.poller.commit(taken)
                lane = next(self._lot_numbers)
                for item in lot:
                    yield item, (lane, self.settings.handle_to_commit(item))

        def get_advance_lane(self, broker_payload: Any) -> Hashable:
            """One lane per lot read: a lot Airflow is slow to confirm holds back only its own commit."""
            lane: int = broker_payload[0]
            return lane

        async def advance(self, batch: Sequence[Any]) -> None:
            """Commit what Airflow stored (or every watcher rejected); leave the rest to redelivery.

            One log line per batch, not per item: a batch can hold hundreds of items (after an ack
            timeout, say), and a line per item would hold the triggerer's event loop for seconds.
            """
            self.in_flight.settled(len(batch))
            commit: list[str] = []
            not_stored: list[str] = []
            dropped = unheard = 0
            for entry in batch:
                handle, outcome = entry.broker_payload[1], entry.outcome
                if handle is None:  # a quiet marker, or an unreadable item kept: nothing to commit
                    continue
                if outcome.failed:
                    not_stored.append(handle)
                elif outcome.rejected and not outcome.acked:
                    dropped += 1
                    commit.append(handle)
                elif outcome.acked:
                    commit.append(handle)
                else:  # no subscriber online when it was read: leave it for redelivery
                    unheard += 1
            if not_stored:
                self.log.warning(
                    "Feed items not committed: Airflow did not confirm storing their events; VTEX hands them "
                    "out again after the visibility timeout.",
                    items=len(not_stored),
                )
            if dropped:
                self.log.info("Feed items dropped (no watcher wanted their state): committed.", items=dropped)
            if unheard:
                self.log.info(
                    "Feed items read while no watcher listened: left for redelivery.", items=unheard
                )
            if commit and self.poller is not None:
                await self.poller.commit(commit)

        async def aclose(self) -> None:
            if self.poller is not None:
                await self.poller.aclose()
