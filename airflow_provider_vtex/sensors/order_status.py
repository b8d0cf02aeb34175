"""VtexOrderStatusSensor: wait until an order can be invoiced (or reaches any other status)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import AirflowFailException, BaseSensorOperator, PokeReturnValue
from airflow_provider_vtex.exceptions import VtexError, VtexNotFoundError
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID
from airflow_provider_vtex.operators.base import order_id_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.hooks.vtex import VtexHook


class VtexOrderStatusSensor(BaseSensorOperator):
    """Wait until a VTEX order reaches one of ``statuses``; fail at once when it cannot any more.

    Invoicing an order that is not yet ``ready-for-handling`` (payment still pending, a change in
    progress) is refused or, worse, accepted against a stale value; gate the invoice task on this.

    :param order_id: the VTEX order id (templated).
    :param statuses: the statuses that end the wait successfully (default ``ready-for-handling``).
    :param failed_statuses: statuses that fail the task at once, since the order will never get there
        (default ``canceled``). An unknown order fails at once too.
    :param vtex_conn_id: the ``vtex`` connection to use.
    :param hook_params: extra keyword arguments for the hook.

    Works in ``poke`` and ``reschedule`` mode (``mode="reschedule"`` frees the worker slot between
    checks). The status found is pushed to XCom.
    """

    template_fields: Sequence[str] = ("order_id",)
    ui_color = "#f71963"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        order_id: str,
        statuses: Sequence[str] = ("ready-for-handling",),
        failed_statuses: Sequence[str] = ("canceled",),
        vtex_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.statuses = list(statuses)
        self.failed_statuses = list(failed_statuses)
        self.vtex_conn_id = vtex_conn_id
        self.hook_params = hook_params

    @cached_property
    def hook(self) -> VtexHook:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        return VtexHook(vtex_conn_id=self.vtex_conn_id, **(self.hook_params or {}))

    def poke(self, context: Context) -> PokeReturnValue | bool:
        order_id = order_id_text(self.order_id)
        try:
            order = self.hook.get_order(order_id)
        except VtexNotFoundError as exc:
            raise AirflowFailException(f"Order {order_id!r} does not exist in VTEX: {exc}") from exc
        except VtexError as exc:
            if not exc.retryable:
                raise AirflowFailException(str(exc)) from exc
            self.log.warning("Could not read order %s this time (%s); will check again.", order_id, exc)
            return False
        status = str(order.get("status"))
        if status in self.failed_statuses:
            raise AirflowFailException(
                f"Order {order_id} is '{status}', so it will never reach {self.statuses}: not waiting any longer."
            )
        if status in self.statuses:
            self.log.info("Order %s is '%s'.", order_id, status)
            return PokeReturnValue(is_done=True, xcom_value=status)
        self.log.info("Order %s is '%s'; waiting for one of %s.", order_id, status, self.statuses)
        return False
