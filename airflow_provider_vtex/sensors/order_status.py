"""VtexOrderStatusSensor: wait until an order can be invoiced (or reaches any other status)."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import (
    AirflowFailException,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_vtex.exceptions import VtexError
from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexHookMixin

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context


class VtexOrderStatusSensor(VtexHookMixin, BaseSensorOperator):
    """Wait until a VTEX order reaches one of ``statuses``; fail at once when it cannot any more.

    Invoicing an order that is not yet ``ready-for-handling`` (payment still pending, a change in
    progress) is refused or, worse, accepted against a stale value; gate the invoice task on this.

    :param order_id: the VTEX order id (templated).
    :param statuses: the statuses that end the wait successfully (default ``ready-for-handling``).
    :param failed_statuses: statuses that fail the task at once, since the order will never get there
        (default ``canceled``). An unknown order fails at once too.
    :param vtex_conn_id: the ``vtex`` connection to use (templated).
    :param hook_params: keyword arguments for the hook.

    :param deferrable: wait in Airflow's triggerer (:class:`~airflow_provider_vtex.triggers.order_status.
        VtexOrderStatusTrigger`), holding no worker slot: the way to wait days for a payment. The default
        comes from Airflow's ``[operators] default_deferrable``. The order is read once in the worker first,
        so an order already there costs no deferral. ``poke_interval`` is the trigger's polling interval and
        ``timeout`` its deadline (``soft_fail`` skips instead of failing).

    Also works in ``poke`` and ``reschedule`` mode (``mode="reschedule"`` frees the worker slot between
    checks). The status found is pushed to XCom.
    """

    template_fields: Sequence[str] = ("order_id", *VTEX_TEMPLATE_FIELDS)
    ui_color = "#f71963"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        order_id: str,
        statuses: Sequence[str] = ("ready-for-handling",),
        failed_statuses: Sequence[str] = ("canceled",),
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.statuses = list(statuses)
        self.failed_statuses = list(failed_statuses)
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        found = self.poke(context)
        if isinstance(found, PokeReturnValue) and found.is_done:
            return found.xcom_value
        from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

        self.defer(
            trigger=VtexOrderStatusTrigger(
                order_id=self.hook.checked_order_id(self.order_id),
                statuses=self.statuses,
                failed_statuses=self.failed_statuses,
                vtex_conn_id=self.vtex_conn_id,
                hook_params=self.hook_params,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
            ),
            method_name="execute_complete",
            # A backstop: the trigger itself ends at ``timeout`` with a clear message.
            timeout=dt.timedelta(seconds=self.timeout + 2 * self.poke_interval + 60),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Where the task resumes when the trigger fires."""
        status = event.get("status")
        message = str(event.get("message") or f"Order {self.order_id}: trigger ended with {event!r}")
        if status == "success":
            self.log.info("Order %s is '%s'.", self.order_id, event.get("order_status"))
            return str(event.get("order_status"))
        if status == "timeout" and self.soft_fail:
            raise AirflowSkipException(message)
        raise AirflowFailException(message)

    def poke(self, context: Context) -> PokeReturnValue | bool:
        try:
            with self.vtex_errors():  # an unknown order or a refused key fails the task at once
                order = self.hook.get_order(self.hook.checked_order_id(self.order_id))
        except VtexError as exc:  # retryable: an outage or a rate limit; poke again later
            self.log.warning("Could not read order %s this time (%s); will check again.", self.order_id, exc)
            return False
        status = str(order.get("status"))
        if status in self.failed_statuses:
            raise AirflowFailException(
                f"Order {self.order_id} is '{status}', so it will never reach {self.statuses}: not waiting any longer."
            )
        if status in self.statuses:
            self.log.info("Order %s is '%s'.", self.order_id, status)
            return PokeReturnValue(is_done=True, xcom_value=status)
        self.log.info("Order %s is '%s'; waiting for one of %s.", self.order_id, status, self.statuses)
        return False
