"""VtexChangeRequestTrigger: wait in the triggerer until an order modification's change request ends.

VTEX applies a modification asynchronously (``waiting-acknowledgement``, ``waiting-confirmation``, then
``done`` or ``canceled``), in seconds or, when a payment must be adjusted, much longer. A worker slot held
while it does is wasted; this trigger costs one coroutine, polling the change request with the hook's
async face (:meth:`~airflow_provider_vtex.hooks.changes.ChangesMixin.aget_change`), under the hook's rules.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import BaseTrigger, TriggerEvent
from airflow_provider_vtex.exceptions import VtexError
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


def change_outcome(change: dict[str, Any]) -> tuple[str, str] | None:
    """``("success" | "failed", message)`` once a change request has ended, else None (still running).

    ``done`` is success and ``canceled`` a failure. A request that stopped on an error (a status naming an
    error or a failure, or ``inProgress`` false in any other status) is a failure whose message says how to
    go on: retry it or cancel it.
    """
    status = str(change.get("status") or "")
    request_id = change.get("requestId")
    if status == "done":
        return "success", f"Change request {request_id} is done."
    if status == "canceled":
        return "failed", f"Change request {request_id} was canceled: the order was not modified."
    stopped = "error" in status or "fail" in status or change.get("inProgress") is False
    if stopped:
        return (
            "failed",
            f"Change request {request_id} stopped in status '{status}' without finishing: retry it "
            "(VtexHook.retry_change) or cancel it (VtexHook.cancel_change).",
        )
    return None


class VtexChangeRequestTrigger(BaseTrigger):
    """Fire once the change request is ``done`` (``"success"``), ended otherwise (``"failed"``) or
    ``end_time`` passed (``"timeout"``). Outages and rate limits are waited out and polled again; an unknown
    order or request, or a refused key, ends with ``"failed"``.

    :param order_id: the order (VTEX's changeOrderId).
    :param change_request_id: the change request (the PATCH's ``requestId``).
    :param vtex_conn_id: the ``vtex`` connection.
    :param hook_params: keyword arguments for the hook (JSON-serialisable).
    :param poll_interval: seconds between two reads.
    :param end_time: epoch seconds after which the trigger gives up.
    """

    def __init__(
        self,
        order_id: str,
        change_request_id: str,
        *,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        self.order_id = order_id
        self.change_request_id = change_request_id
        self.vtex_conn_id = vtex_conn_id
        self.hook_params = dict(hook_params or {})
        self.poll_interval = float(poll_interval)
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "order_id": self.order_id,
                "change_request_id": self.change_request_id,
                "vtex_conn_id": self.vtex_conn_id,
                "hook_params": self.hook_params,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _event(self, status: str, **details: Any) -> Any:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "order_id": self.order_id,
                "change_request_id": self.change_request_id,
                **details,
            }
        )

    async def run(self) -> AsyncIterator[Any]:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        hook = VtexHook(vtex_conn_id=self.vtex_conn_id, **self.hook_params)
        try:
            while True:
                try:
                    change = await hook.aget_change(self.order_id, self.change_request_id)
                except VtexError as exc:
                    if not exc.retryable:
                        yield self._event("failed", message=str(exc))
                        return
                    self.log.warning(
                        "Could not read change request %s this time (%s); will check again.",
                        self.change_request_id,
                        exc,
                    )
                else:
                    ended = change_outcome(change)
                    if ended is not None:
                        yield self._event(ended[0], change_status=change.get("status"), message=ended[1])
                        return
                    self.log.info(
                        "Change request %s of order %s is '%s'; waiting for it to end.",
                        self.change_request_id,
                        self.order_id,
                        change.get("status"),
                    )
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    yield self._event(
                        "timeout",
                        message=f"Change request {self.change_request_id} of order {self.order_id} did not "
                        "end before the task's timeout.",
                    )
                    return
                await asyncio.sleep(self.poll_interval)
        finally:
            await hook.aclose()
