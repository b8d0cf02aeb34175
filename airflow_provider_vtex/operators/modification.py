"""VtexOrderModificationOperator: change an order (remove or reduce an item out of stock, replace a product,
correct a weight) through VTEX's order modifications: preview, apply once, wait for the outcome."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.compat import AirflowException, AirflowFailException, default_deferrable
from airflow_provider_vtex.operators.base import (
    VTEX_TEMPLATE_FIELDS,
    VtexBaseOperator,
    json_text_or_value,
    task_instance,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models.changes import ChangeRequest


class VtexOrderModificationOperator(VtexBaseOperator):
    """Preview, apply once, and follow one order modification (``/api/order-system/orders/{orderId}/changes``).

    1. The modification is checked against its contract (:class:`~airflow_provider_vtex.models.changes.ChangeRequest`)
       before any request: a bad one fails the task at once.
    2. If the order's history already holds a change request with this ``reason`` (an earlier try or run made
       it), nothing is sent again: the task follows that request.
    3. Otherwise the order must be in a status VTEX modifies (``handling``, ``waiting-for-fulfillment``,
       ready for invoicing): another status fails the task at once, without retries. VTEX takes one
       modification of an order at a time: a 409 while another is in progress fails retryably.
    4. ``preview``: VTEX's preview (new items and totals, nothing changed) is pushed to XCom under the key
       ``preview``; with ``preview_only`` the task stops there (a human or a branch decides).
    5. The modification is applied once (:meth:`~airflow_provider_vtex.hooks.changes.ChangesMixin.create_change`:
       one change request per reason; an answer lost in transit is settled by reading the history back).
    6. With ``wait_for_completion`` the task waits until the change request is ``done``: deferred to the
       triggerer (:class:`~airflow_provider_vtex.triggers.change_request.VtexChangeRequestTrigger`, no worker
       slot held) when ``deferrable``, else polling in the worker. ``canceled`` or a request stopped on an
       error fails the task (without retries: retrying the task would not restart the request; retry or
       cancel it with the hook).

    :param order_id: the VTEX order id (templated).
    :param change: the modification (templated): a dict, JSON text, an XComArg or a ``ChangeRequest``.
        ``reason`` is required and must be unique to this modification (it is the key that keeps it once).
    :param preview: ask VTEX for a preview first and push it to XCom (key ``preview``).
    :param preview_only: stop after the preview (nothing is changed).
    :param wait_for_completion: wait until the change request has ended.
    :param deferrable: wait in the triggerer (default: Airflow's ``[operators] default_deferrable``).
    :param poll_interval: seconds between two reads of the change request.
    :param timeout: seconds to wait for the outcome before failing (retryably: a retry finds the request by
        its reason and waits again).
    :return: to XCom, ``{"order_id", "change_request_id", "outcome", "status"}`` (``outcome``: ``"sent"``,
        ``"already_applied"``, ``"confirmed_by_read_back"``, or ``"previewed"`` with ``preview_only``).
    """

    template_fields: Sequence[str] = ("order_id", "change", *VTEX_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"change": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        change: ChangeRequest | Mapping[str, Any] | str,
        preview: bool = True,
        preview_only: bool = False,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.change = change
        self.preview = preview or preview_only
        self.preview_only = preview_only
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = timeout

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vtex.exceptions import VtexConflictError, VtexStatusNotAllowedError
        from airflow_provider_vtex.models.changes import MODIFIABLE_STATUSES, ChangeRequest

        with self.vtex_errors():
            model = ChangeRequest.parse(json_text_or_value(self.change, "change", plain_text=False))
            order_id = self.hook.checked_order_id(self.order_id)
            held = self.hook.find_change(order_id, model.reason)
            result = None
            if held is None:
                order_status = str(self.hook.get_order(order_id).get("status"))
                if order_status not in MODIFIABLE_STATUSES:
                    raise VtexStatusNotAllowedError(
                        f"Order {order_id} is '{order_status}': VTEX modifies an order only while it is "
                        f"{', '.join(sorted(MODIFIABLE_STATUSES))}. Nothing was sent."
                        + (
                            " Cancel it or send a return invoice instead."
                            if order_status == "invoiced"
                            else ""
                        ),
                        order_id=order_id,
                        status=order_status,
                    )
                try:
                    if self.preview:
                        preview = self.hook.preview_change(order_id, model)
                        _push(context, "preview", preview)
                        self.log.info(
                            "Preview of %r on order %s: total change %s.",
                            model.reason,
                            order_id,
                            preview.get("totalChangeValue"),
                        )
                        if self.preview_only:
                            return {
                                "order_id": order_id,
                                "change_request_id": None,
                                "outcome": "previewed",
                                "status": None,
                            }
                    result = self.hook.create_change(order_id, model, check_first=False)
                except VtexConflictError as exc:
                    self._retry_if_another_is_running(order_id, model.reason, exc)
                    raise
        request_id: str | None
        status: str | None
        if result is not None:
            outcome, request_id, status = result.outcome.value, result.change_request_id, result.status
        else:
            assert held is not None
            outcome, request_id = "already_applied", _text(held.get("requestId"))
            status = _text(held.get("status"))
            self.log.info(
                "Order %s already holds change request %s for %r.", order_id, request_id, model.reason
            )
        done = {"order_id": order_id, "change_request_id": request_id, "outcome": outcome, "status": status}
        if not self.wait_for_completion or request_id is None:
            return done
        return self._wait(context, done)

    def _retry_if_another_is_running(self, order_id: str, reason: str, exc: Exception) -> None:
        """A 409 (on the preview or the PATCH) while another modification of the order is in progress is
        worth a retry, since VTEX takes one at a time; a 409 for the order's status is not (re-raised)."""
        # The history does not say which request runs (VTEX's history has no status): read the latest ones.
        latest = [
            str(c.get("requestId")) for c in self.hook.list_changes(order_id)[-5:] if c.get("requestId")
        ]
        running = [rid for rid in latest if self.hook.get_change(order_id, rid).get("inProgress")]
        if not running:
            raise exc
        raise AirflowException(
            f"Order {order_id} has a modification in progress ({', '.join(map(str, running))}) and VTEX takes "
            f"one at a time: {reason!r} was not applied. A retry of the task applies it once that one has ended."
        ) from exc

    def _wait(self, context: Context, done: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_vtex.triggers.change_request import change_outcome

        with self.vtex_errors():
            change = self.hook.get_change(done["order_id"], str(done["change_request_id"]))
        ended = change_outcome(change)
        if ended is None and self.deferrable:
            from airflow_provider_vtex.triggers.change_request import VtexChangeRequestTrigger

            _push(context, "change", done)
            self.defer(
                trigger=VtexChangeRequestTrigger(
                    done["order_id"],
                    str(done["change_request_id"]),
                    vtex_conn_id=self.vtex_conn_id,
                    hook_params=self.hook_params,
                    poll_interval=self.poll_interval,
                    end_time=time.time() + self.wait_timeout,
                ),
                method_name="execute_complete",
                timeout=dt.timedelta(seconds=self.wait_timeout + 2 * self.poll_interval + 60),
            )
        deadline = time.monotonic() + self.wait_timeout
        while ended is None:
            if time.monotonic() + self.poll_interval > deadline:
                raise TimeoutError(
                    f"Change request {done['change_request_id']} of order {done['order_id']} did not end within "
                    f"{self.wait_timeout:g} s; a retry finds it by its reason and waits again."
                )
            time.sleep(self.poll_interval)
            with self.vtex_errors():
                change = self.hook.get_change(done["order_id"], str(done["change_request_id"]))
            ended = change_outcome(change)
        return self._finish(done, ended[0], str(change.get("status")), ended[1])

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Where the task resumes when the trigger fires."""
        done = {
            "order_id": event.get("order_id"),
            "change_request_id": event.get("change_request_id"),
            "outcome": None,
            "status": None,
        }
        ti = task_instance(context)
        pushed = ti.xcom_pull(task_ids=self.task_id, key="change") if ti is not None else None
        if isinstance(pushed, dict):
            done.update(pushed)
        if event.get("status") == "timeout":
            raise TimeoutError(str(event.get("message")))
        return self._finish(
            done, str(event.get("status")), str(event.get("change_status")), str(event.get("message"))
        )

    def _finish(self, done: dict[str, Any], ended: str, status: str, message: str) -> dict[str, Any]:
        if ended != "success":
            raise AirflowFailException(f"Order {done['order_id']}: {message}")
        self.log.info("Order %s: %s", done["order_id"], message)
        return {**done, "status": status}


def _push(context: Context, key: str, value: Any) -> None:
    """Push to XCom under ``key`` (through the task instance, as both Airflow 2 and 3 allow)."""
    ti = task_instance(context)
    if ti is not None:
        ti.xcom_push(key=key, value=value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
