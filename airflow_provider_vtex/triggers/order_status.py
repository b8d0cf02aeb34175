"""VtexOrderStatusTrigger: wait in the triggerer until a VTEX order reaches a status.

Payment approval can take days; a sensor in poke or reschedule mode holds (or keeps re-taking) a worker
slot per waiting order, while this trigger costs one coroutine in the triggerer. It polls with the
hook's async client (httpx), under the same policy as the hook (:mod:`airflow_provider_vtex.client.policy`):
headers, timeouts, the request-rate cap, 429/503 waits, metrics, typed errors, and the AppKey and
AppToken scrubbed from every answer before it can reach an event.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import BaseTrigger, TriggerEvent
from airflow_provider_vtex.exceptions import VtexError, excerpt
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

#: How much of the order's status an event or a message quotes (VTEX's statuses are ~25 characters).
STATUS_EXCERPT_CHARS = 100


class VtexOrderStatusTrigger(BaseTrigger):
    """Fire once the order reaches one of ``statuses``, or cannot any more.

    Events (``TriggerEvent`` payloads) carry ``status``: ``"success"`` (with ``order_status``),
    ``"failed"`` (a ``failed_statuses`` status, an unknown order, rejected credentials: a ``message``
    says which), or ``"timeout"`` (``end_time`` passed). Outages and rate limits are waited out and
    polled again, as a sensor's poke would be.

    :param order_id: the VTEX order id.
    :param statuses: statuses that end the wait successfully.
    :param failed_statuses: statuses that end it with a failure.
    :param vtex_conn_id: the ``vtex`` connection.
    :param hook_params: keyword arguments for the hook (JSON-serialisable).
    :param poll_interval: seconds between two reads of the order.
    :param end_time: epoch seconds after which the trigger gives up with a ``"timeout"`` event.
    """

    def __init__(
        self,
        order_id: str,
        statuses: Sequence[str],
        failed_statuses: Sequence[str] = (),
        *,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        poll_interval: float = 60.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        self.order_id = order_id
        self.statuses = list(statuses)
        self.failed_statuses = list(failed_statuses)
        self.vtex_conn_id = vtex_conn_id
        self.hook_params = dict(hook_params or {})
        self.poll_interval = float(poll_interval)
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "order_id": self.order_id,
                "statuses": self.statuses,
                "failed_statuses": self.failed_statuses,
                "vtex_conn_id": self.vtex_conn_id,
                "hook_params": self.hook_params,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _event(self, status: str, **details: Any) -> Any:
        return TriggerEvent({"status": status, "order_id": self.order_id, **details})  # type: ignore[no-untyped-call]

    async def run(self) -> AsyncIterator[Any]:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        hook = VtexHook(vtex_conn_id=self.vtex_conn_id, **self.hook_params)
        try:
            while True:
                try:
                    order = await hook.aget_order(self.order_id)
                except VtexError as exc:
                    if not exc.retryable:  # an unknown order, a refused key, a broken connection
                        yield self._event("failed", message=str(exc))
                        return
                    self.log.warning(
                        "Could not read order %s this time (%s); will check again.", self.order_id, exc
                    )
                else:
                    # Scrubbed by the client like every answer; bounded here, as it reaches the event.
                    status = excerpt(str(order.get("status")), STATUS_EXCERPT_CHARS)
                    if status in self.failed_statuses:
                        yield self._event(
                            "failed",
                            order_status=status,
                            message=f"Order {self.order_id} is '{status}', so it will never reach {self.statuses}.",
                        )
                        return
                    if status in self.statuses:
                        yield self._event("success", order_status=status)
                        return
                    self.log.info(
                        "Order %s is '%s'; waiting for one of %s.", self.order_id, status, self.statuses
                    )
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    yield self._event(
                        "timeout",
                        message=f"Order {self.order_id} did not reach {self.statuses} before the sensor's timeout.",
                    )
                    return
                await asyncio.sleep(self.poll_interval)
        finally:
            await hook.aclose()
