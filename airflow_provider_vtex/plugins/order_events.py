"""Store one pushed order change as asset events, once, inside Airflow 3's API server.

**Which assets.** Those the feed would feed: every asset watched, for the notification's connection, by
a :class:`~airflow_provider_vtex.triggers.order_feed.VtexOrderFeedTrigger` or a
:class:`~airflow_provider_vtex.triggers.order_hook.VtexOrderHookTrigger` (``MessageQueueTrigger(scheme=
"vtex")`` stores as the latter). Airflow keeps each watcher as a ``Trigger`` row (class path and
kwargs) linked to its assets; the receiver reads those rows, so no setting repeats what the DAGs say.

**The event.** Stored through Airflow's own ``AssetManager.register_asset_change``, the call the
triggerer makes for a watcher's event, with the same ``extra`` (``{"from_trigger": true, "payload":
...}``) and a payload in the feed trigger's shape (``via: "hook"``): a DAG cannot tell the two ways apart
but by ``via``, and the scheduler queues its runs exactly as for the feed.

**Once per change.** The dedup state is the asset events themselves (Airflow's own records, in the
metadata database every API server and the triggerer write to): before storing, the receiver looks for
an event of the same change (order id, state, change time: :func:`~airflow_provider_vtex.models.
order_hook.change_key`) on that asset within VTEX's 4-day redelivery horizon, whichever way it came, and
stores nothing if there is one. No table or Variable of ours to create, migrate or clean up; Airflow's
own event retention cleans it. The check and the insert run under one process-wide lock in one
transaction, so duplicates racing into one API server store one event. What is not covered: two API
server *processes* receiving the same change in the same instant, and the feed storing a change the hook
stored first (the triggerer writes its events without asking; see docs/order-hook.md for what that
means and why the ERP step stays the last guard).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID
from airflow_provider_vtex.models.order_hook import change_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: The watchers whose assets the hook feeds, by the class path Airflow stores them under.
WATCHER_CLASSPATHS = (
    "airflow_provider_vtex.triggers.order_feed.VtexOrderFeedTrigger",
    "airflow_provider_vtex.triggers.order_hook.VtexOrderHookTrigger",
)
#: How far back a duplicate is looked for: VTEX redelivers for at most 4 days (its feed's retention).
DEDUP_HORIZON = dt.timedelta(days=4)

_STORE_LOCK = threading.Lock()


class NoWatchingAsset(Exception):
    """No asset is watched for this connection (no DAG deployed yet, or it is paused/removed)."""


def watched_assets(session: Session, conn_id: str, account: str, state: str) -> list[Any]:
    """The assets (``AssetModel``) whose VTEX watchers take ``state`` changes of ``conn_id``'s account;
    :class:`NoWatchingAsset` when no VTEX watcher names ``conn_id`` at all (an empty list means watchers
    exist but none wants this state or account: the change is dropped, as the feed trigger drops it)."""
    from airflow.models.trigger import Trigger
    from sqlalchemy import select

    assets: dict[int, Any] = {}
    watchers = 0
    for trigger in session.scalars(select(Trigger).where(Trigger.classpath.in_(WATCHER_CLASSPATHS))):
        kwargs = trigger.kwargs or {}
        if kwargs.get("vtex_conn_id", DEFAULT_CONN_ID) != conn_id:
            continue
        watchers += 1
        states = kwargs.get("states")
        if states is not None and state not in states:
            continue
        named = kwargs.get("account")
        if named and str(named).lower() != account.lower():
            continue
        for asset in trigger.assets:
            assets[asset.id] = asset
    if not watchers:
        raise NoWatchingAsset(conn_id)
    return list(assets.values())


def already_stored(session: Session, asset_id: int, payload: dict[str, Any]) -> bool:
    """Whether an event of the same order change is on the asset already (hook or feed)."""
    from airflow.models.asset import AssetEvent
    from sqlalchemy import Text, cast, select

    key = change_key(payload)
    if key is None:
        return False
    since = dt.datetime.now(dt.timezone.utc) - DEDUP_HORIZON
    extras = session.scalars(
        select(AssetEvent.extra).where(
            AssetEvent.asset_id == asset_id,
            AssetEvent.timestamp >= since,
            # a cheap pre-filter on the JSON text; the payload itself decides
            cast(AssetEvent.extra, Text).contains(key[0], autoescape=True),
        )
    )
    return any(change_key((extra or {}).get("payload") or {}) == key for extra in extras)


def store_order_change(conn_id: str, account: str, payload: dict[str, Any]) -> int:
    """Store ``payload`` as an event on each asset that watches ``conn_id`` and lacks it; return how
    many were stored (0: a duplicate, or no watcher wants this state). Commits before returning, so a
    200 after this means the events are in the database. :class:`NoWatchingAsset` when nothing watches
    ``conn_id``."""
    from airflow.assets.manager import AssetManager
    from airflow.utils.session import create_session

    stored = 0
    with _STORE_LOCK, create_session() as session:
        assets = watched_assets(session, conn_id, account, str(payload.get("state")))
        for asset in assets:
            if already_stored(session, asset.id, payload):
                continue
            AssetManager.register_asset_change(
                asset=asset, extra={"from_trigger": True, "payload": payload}, session=session
            )
            stored += 1
        session.commit()
    return stored
