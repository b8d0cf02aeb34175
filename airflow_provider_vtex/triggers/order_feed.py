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

**Events stored but attached to no DAG run.** Airflow may store asset events while the scheduler creates
a run and attach them to no run until a later event arrives (apache/airflow#56050, #54659, and the race
fixed by PR #62501 for PostgreSQL only). After a burst, the tail would then wait for the next order, maybe
the next morning. So after ``quiet_period`` seconds without a new item following a burst, the trigger
emits one ``{"kind": "quiet"}`` event (no order): a new asset event that makes the scheduler create a run.
Combined with the example DAG's reconciliation (it also handles ready orders no event brought), every
order reaches a DAG run within ``quiet_period`` plus one scheduling round, or the reconciliation period.
"""

from __future__ import annotations

import asyncio
import time
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
    from collections.abc import AsyncIterator, Hashable, Sequence

if BaseEventTrigger is None:  # pragma: no cover - Airflow 2 has no event-driven scheduling
    raise ImportError(
        "VtexOrderFeedTrigger needs Airflow 3 (event-driven scheduling with AssetWatcher); on Airflow 2 read "
        "the feed with VtexReadOrderFeedOperator in a scheduled DAG instead."
    )

#: Whether this Airflow offers shared streams in ack mode (3.3+).
ACK_MODE = SharedStreamProducer is not None and "create_shared_stream_producer" in vars(BaseEventTrigger)
QUIET = "quiet"


@dataclass(frozen=True)
class FeedSettings:
    """The trigger's settings, as serialized (one source for the trigger, the poller and the producer)."""

    vtex_conn_id: str = DEFAULT_CONN_ID
    max_lot: int = MAX_LOT
    poll_interval: float = 5.0
    states: tuple[str, ...] | None = None
    quiet_period: float | None = 30.0
    hook_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> FeedSettings:
        states = kwargs.get("states")
        return cls(
            vtex_conn_id=kwargs.get("vtex_conn_id", DEFAULT_CONN_ID),
            max_lot=int(kwargs.get("max_lot", MAX_LOT)),
            poll_interval=float(kwargs.get("poll_interval", 5.0)),
            states=tuple(states) if states is not None else None,
            quiet_period=kwargs.get("quiet_period", 30.0),
            hook_params=dict(kwargs.get("hook_params") or {}),
        )

    def to_kwargs(self) -> dict[str, Any]:
        return {
            "vtex_conn_id": self.vtex_conn_id,
            "max_lot": self.max_lot,
            "poll_interval": self.poll_interval,
            "states": list(self.states) if self.states is not None else None,
            "quiet_period": self.quiet_period,
            "hook_params": self.hook_params,
        }

    def wanted(self, item: dict[str, Any]) -> bool:
        return self.states is None or item.get("state") in self.states


class _Poller:
    """Reads the feed forever: lots of items, then a quiet marker once a burst has been quiet for a while.

    Retryable failures (outages, rate limits) are logged and polled again; the others (no feed
    configuration, a refused key) are raised, since polling on cannot fix them.
    """

    def __init__(self, settings: FeedSettings, log: Any) -> None:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        self.settings = settings
        self.log = log
        self.hook = VtexHook(vtex_conn_id=settings.vtex_conn_id, **settings.hook_params)

    async def lots(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each non-empty lot of items, and ``[{"kind": "quiet"}]`` after a burst went quiet."""
        last_item_at: float | None = None
        while True:
            try:
                items = await self.hook.aget_feed_items(self.settings.max_lot)
            except VtexError as exc:
                if not exc.retryable:
                    raise
                self.log.warning("Could not read VTEX's order feed this time (%s); will read again.", exc)
                items = []
            if items:
                last_item_at = time.monotonic()
                yield [item.to_xcom() for item in items]
            elif self._burst_went_quiet(last_item_at):
                last_item_at = None
                yield [{"kind": QUIET}]
            if len(items) < self.settings.max_lot:  # drained for now
                await asyncio.sleep(self.settings.poll_interval)

    def _burst_went_quiet(self, last_item_at: float | None) -> bool:
        quiet = self.settings.quiet_period
        return (
            bool(quiet) and last_item_at is not None and time.monotonic() - last_item_at >= float(quiet or 0)
        )

    async def commit(self, handles: Sequence[str]) -> None:
        if handles:
            await self.hook.acommit_feed_items(list(handles))

    async def aclose(self) -> None:
        await self.hook.aclose()


class VtexOrderFeedTrigger(BaseEventTrigger):  # type: ignore[misc,valid-type]  # None on Airflow 2
    """Fire one event per VTEX order-feed item, committing each item only when it is safe.

    Event payloads: ``{"kind": "order", "order_id", "state", "last_state", "handle", "event_id",
    "last_change", "current_change", "domain"}``, or ``{"kind": "quiet"}`` after a burst (see the module
    docstring for why).

    :param vtex_conn_id: the ``vtex`` connection; its AppKey's feed is read. Configure the feed first
        (``VtexHook.set_feed_config``), e.g. ``FromWorkflow`` with ``["ready-for-handling"]``.
    :param max_lot: items per read (1 to 10).
    :param poll_interval: seconds between reads while the feed is empty.
    :param states: only items with one of these states fire events; the others are committed and logged
        as dropped. ``None`` (default): every item.
    :param quiet_period: seconds without a new item after a burst before the ``quiet`` event; ``None`` or
        0 disables it.
    :param hook_params: keyword arguments for the hook (JSON-serialisable).
    """

    def __init__(
        self,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        max_lot: int = MAX_LOT,
        poll_interval: float = 5.0,
        states: Sequence[str] | None = None,
        quiet_period: float | None = 30.0,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        if not 1 <= int(max_lot) <= MAX_LOT:
            raise ValueError(
                f"max_lot must be from 1 to {MAX_LOT} (VTEX's feed hands out at most 10); got {max_lot!r}"
            )
        self.settings = FeedSettings(
            vtex_conn_id=vtex_conn_id,
            max_lot=int(max_lot),
            poll_interval=float(poll_interval),
            states=tuple(states) if states is not None else None,
            quiet_period=quiet_period,
            hook_params=dict(hook_params or {}),
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", self.settings.to_kwargs()

    # ------------------------------------------------------------------ Airflow 3.0 to 3.2 (and tests)
    async def run(self) -> AsyncIterator[Any]:
        """The standalone loop: each item's event is handed to the triggerer, then its handle committed."""
        poller = _Poller(self.settings, self.log)
        try:
            async for lot in poller.lots():
                for item in lot:
                    if item.get("kind") == QUIET or self.settings.wanted(item):
                        yield _event(item)
                    else:
                        self.log.info(
                            "Dropped feed item %s of order %s: state %s not wanted.",
                            item["event_id"],
                            item["order_id"],
                            item["state"],
                        )
                await poller.commit([item["handle"] for item in lot if "handle" in item])
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
            if item.get("kind") == QUIET or self.settings.wanted(item):
                yield _event(item)
            else:  # committed by the producer, as dropped
                reject_shared_stream_event()


def _event(item: dict[str, Any]) -> Any:
    payload = item if item.get("kind") == QUIET else {"kind": "order", **item}
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


if ACK_MODE:

    class _FeedProducer(SharedStreamProducer):  # type: ignore[misc,valid-type]
        """The broker side in ack mode: reads the feed, commits a handle only once Airflow stored every
        trigger event derived from its item (or every watcher rejected it)."""

        def __init__(self, settings: FeedSettings) -> None:
            import structlog

            self.settings = settings
            self.log = structlog.get_logger(__name__)
            self.poller: _Poller | None = None

        async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
            self.poller = _Poller(self.settings, self.log)
            async for lot in self.poller.lots():
                for item in lot:
                    yield item, item.get("handle")

        async def advance(self, batch: Sequence[Any]) -> None:
            commit: list[str] = []
            for entry in batch:
                handle, outcome = entry.broker_payload, entry.outcome
                if handle is None:  # a quiet marker: nothing to commit
                    continue
                if outcome.failed:
                    self.log.warning(
                        "Feed item not committed: Airflow did not confirm storing its event; VTEX hands it out "
                        "again after the visibility timeout.",
                        handle=handle,
                    )
                elif outcome.rejected and not outcome.acked:
                    self.log.info(
                        "Feed item dropped (no watcher wanted its state): committed.", handle=handle
                    )
                    commit.append(handle)
                elif outcome.acked:
                    commit.append(handle)
                # No subscriber online when it was read: leave it for redelivery.
            if commit and self.poller is not None:
                await self.poller.commit(commit)

        async def aclose(self) -> None:
            if self.poller is not None:
                await self.poller.aclose()
