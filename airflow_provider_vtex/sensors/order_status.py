"""VtexOrderStatusSensor: wait until an order can be invoiced (or reaches any other status)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import AirflowFailException, BaseSensorOperator, PokeReturnValue
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

    Works in ``poke`` and ``reschedule`` mode (``mode="reschedule"`` frees the worker slot between
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.statuses = list(statuses)
        self.failed_statuses = list(failed_statuses)

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
