"""VtexOrderHookTrigger: marks an asset as fed by VTEX's order hook, with no feed polling (Airflow 3).

The order hook pushes changes to the receiver in Airflow's API server (``plugins/receiver.py``), which
stores each as an asset event on every asset watched, for that connection, by this trigger or by
:class:`~airflow_provider_vtex.triggers.order_feed.VtexOrderFeedTrigger`. This trigger itself reads
nothing and fires nothing: it only tells Airflow (and the receiver) which assets the hook feeds::

    orders = Asset("vtex_orders", watchers=[
        AssetWatcher(name="vtex_hook", trigger=VtexOrderHookTrigger(vtex_conn_id="vtex_default")),
    ])

It is also what ``MessageQueueTrigger(scheme="vtex", vtex_conn_id=...)`` resolves to (``queues/vtex.py``).
Add a ``VtexOrderFeedTrigger`` watcher on the same asset to keep the feed as the backup.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import BaseEventTrigger
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

if BaseEventTrigger is None:  # pragma: no cover - Airflow 2 has no event-driven scheduling
    raise ImportError(
        "VtexOrderHookTrigger needs Airflow 3 (event-driven scheduling, and the API server that hosts the "
        "order hook's receiver); on Airflow 2 read the feed with VtexReadOrderFeedOperator instead."
    )


class VtexOrderHookTrigger(BaseEventTrigger):  # type: ignore[misc,valid-type]  # None on Airflow 2
    """The asset this watches gets the order changes VTEX's hook pushes for ``vtex_conn_id``.

    :param vtex_conn_id: the ``vtex`` connection whose AppKey registered the hook (its ``hook_secret``,
        account and key are what the receiver checks each call against).
    :param account: the VTEX account (optional): when given, it must be the connection's, so a DAG that
        names a store cannot be fed another's orders by a misnamed connection.
    :param states: only changes into one of these states reach the asset (``None``: all).
    """

    def __init__(
        self,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        account: str | None = None,
        states: Sequence[str] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        self.vtex_conn_id = vtex_conn_id
        self.account = account.strip().lower() if account else None
        self.states = list(states) if states is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {
            "vtex_conn_id": self.vtex_conn_id,
            "account": self.account,
            "states": self.states,
        }

    async def run(self) -> AsyncGenerator[Any, None]:
        """Nothing to read: the receiver stores the events. Wait until Airflow cancels the watcher."""
        await asyncio.Event().wait()
        yield  # pragma: no cover - never reached; makes this an async generator
