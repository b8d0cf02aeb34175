"""The feed as the order hook's backup: ``VtexOrderFeedTrigger(via_receiver=True)`` hands each order item to
the hook's receiver instead of storing it itself, so each change reaches DAGs once whichever way came first.

Why through the receiver: on Airflow 3 trigger code has no database access, so a feed trigger cannot see
that the hook stored a change already, and the triggerer stores what it is given. The receiver
(``plugins/receiver.py``) checks the asset's events before storing, for hook and feed calls alike.

Per order item of a lot (quiet markers and unreadable items go the usual way):

* the receiver answers 200 (stored, or found stored): the handle is committed; nothing is yielded;
* it answers anything else, or no answer came to a call that may have arrived: nothing is committed, nothing
  yielded; VTEX hands the item out again after its visibility timeout, and it goes to the receiver again;
* it cannot be reached (the API server down): the item is stored the usual way (yielded, then committed)
  **only if its change happened after the receiver was first found unreachable**, plus
  :data:`FALLBACK_MARGIN` for the clocks' difference: the hook could not have delivered such a change, and
  when the hook delivers it later the receiver finds the feed's event. An older change may have been stored
  by the hook just before the outage, so it waits in the feed (uncommitted) for the receiver to come back.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.client.receiver import Handover, ReceiverClient
from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from airflow_provider_vtex.models.order_hook import RECEIVER_PATH, normal_time

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_vtex.client.config import VtexConnectionConfig

#: Seconds a change must postdate the receiver's outage to be stored without it (VTEX's clock and this
#: machine's may differ by this much).
FALLBACK_MARGIN = 5.0
#: While the receiver is unreachable, it is tried again at most this often (a black-holed address costs
#: a connect timeout per try).
RETRY_UNREACHABLE_AFTER = 1.0


def receiver_url(conn_id: str, explicit: str | None) -> str:
    """``explicit``, else the receiver under Airflow's ``[api] base_url`` (the API server's own address)."""
    if explicit:
        return explicit
    from airflow_provider_vtex.compat import conf

    base = conf.get("api", "base_url", fallback=None)
    if not base:
        raise VtexConnectionConfigError(
            "VtexOrderFeedTrigger(via_receiver=True) needs the receiver's address: set Airflow's [api] "
            "base_url (AIRFLOW__API__BASE_URL, the API server's address as the triggerer reaches it) or "
            f"pass receiver_url='http://<api-server>{RECEIVER_PATH}/{conn_id}'."
        )
    return f"{base.rstrip('/')}{RECEIVER_PATH}/{conn_id}"


class ReceiverRoute:
    """Splits each lot into what the receiver took and what the trigger must store itself."""

    def __init__(
        self,
        client: ReceiverClient,
        origin: dict[str, str],
        log: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.origin = origin
        self.log = log
        self._clock = clock
        #: When (wall clock) the receiver was first found unreachable in the current outage, if it is.
        self.down_since: float | None = None
        self._last_try = 0.0

    @classmethod
    def for_connection(
        cls, config: VtexConnectionConfig, conn_id: str, url: str | None, log: Any
    ) -> ReceiverRoute:
        if config.hook_secret is None or config.account is None:
            raise VtexConnectionConfigError(
                f"VtexOrderFeedTrigger(via_receiver=True) on connection '{conn_id}': the receiver takes "
                "only calls carrying the connection's 'hook_secret' extra and naming its account (the "
                "connection's host); add them, or drop via_receiver."
            )
        client = ReceiverClient(receiver_url(conn_id, url), config.hook_secret)
        return cls(client, {"Account": config.account, "Key": config.app_key}, log)

    async def split(
        self, lot: list[dict[str, Any]], wanted: Callable[[dict[str, Any]], bool] | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``(items to store the usual way, handles the receiver took)``; the other items are left in the
        feed. Order items ``wanted`` rejects stay in the first list (the caller drops and commits them)."""
        direct: list[dict[str, Any]] = []
        taken: list[str] = []
        left = 0
        for item in lot:
            if "kind" in item or (wanted is not None and not wanted(item)):
                direct.append(item)
                continue
            outcome = await self._hand_over(item)
            if outcome is Handover.STORED:
                taken.append(item["handle"])
            elif outcome is Handover.UNREACHABLE and self._changed_while_down(item):
                direct.append(item)
            else:
                left += 1
        if left:
            self.log.warning(
                "%d feed item(s) left in the feed for the order hook's receiver (%s): %s. VTEX hands them "
                "out again after the visibility timeout.",
                left,
                self.client.url,
                self._why_left(),
            )
        return direct, taken

    async def _hand_over(self, item: dict[str, Any]) -> Handover:
        now = time.monotonic()
        if self.down_since is not None and now - self._last_try < RETRY_UNREACHABLE_AFTER:
            return Handover.UNREACHABLE
        self._last_try = now
        outcome = await self.client.hand_over({"FeedItem": item, "Origin": self.origin})
        if outcome is Handover.UNREACHABLE:
            if self.down_since is None:
                self.down_since = self._clock()
                self.log.warning(
                    "The order hook's receiver (%s) cannot be reached: the feed stores the changes made "
                    "from now on itself; older ones wait in the feed for the receiver.",
                    self.client.url,
                )
        elif self.down_since is not None:
            self.down_since = None
            self.log.info("The order hook's receiver (%s) answers again.", self.client.url)
        return outcome

    def _changed_while_down(self, item: dict[str, Any]) -> bool:
        changed = _timestamp(item.get("current_change"))
        return (
            self.down_since is not None
            and changed is not None
            and changed >= self.down_since + FALLBACK_MARGIN
        )

    def _why_left(self) -> str:
        if self.down_since is not None:
            return "it is unreachable and their changes may predate the outage (the hook may have them)"
        if self.client.last_status is None:
            return "a call got no answer (it may have been stored)"
        return f"it answered {self.client.last_status}"

    async def aclose(self) -> None:
        await self.client.aclose()


def _timestamp(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(normal_time(text)).timestamp()
    except ValueError:
        return None
