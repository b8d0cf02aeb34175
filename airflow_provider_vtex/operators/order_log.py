"""VtexOrderLogOperator: write a line in the order's log, where a support team reads what the ERP did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context


class VtexOrderLogOperator(VtexBaseOperator):
    """Add one line to the order's log (VTEX's interactions: ``POST .../orders/{orderId}/interactions``,
    standard route set only; the key's role needs "Orders Full Access").

    It earns an operator because a DAG writes such lines between its own steps ("invoice NF-1 sent",
    "SKU 33 removed: out of stock") without writing Python. At least once: a line may appear twice after
    an answer lost in transit (VTEX offers no way to read the log back; see
    :meth:`~airflow_provider_vtex.hooks.orders.OrdersMixin.add_interaction`).

    :param order_id: the VTEX order id (templated).
    :param message: the line (templated).
    :param source: who writes it (templated), e.g. the DAG's name.
    :return: to XCom, ``{"order_id", "message"}``.
    """

    template_fields: Sequence[str] = ("order_id", "message", "source", *VTEX_TEMPLATE_FIELDS)

    def __init__(self, *, order_id: str, message: str, source: str = "Airflow", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.message = message
        self.source = source

    def execute(self, context: Context) -> dict[str, Any]:
        with self.vtex_errors():
            self.hook.add_interaction(self.order_id, {"source": self.source, "message": self.message})
        return {"order_id": str(self.order_id), "message": str(self.message)}
