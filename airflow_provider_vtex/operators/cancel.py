"""VtexCancelOrderOperator: cancel an order once (the seller cannot fulfil it, the customer asked, fraud)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context


class VtexCancelOrderOperator(VtexBaseOperator):
    """Cancel one order, once: ``POST /api/oms/pvt/orders/{orderId}/cancel`` (PII:
    ``/api/orders/pvt/document/{orderId}/cancel``). The key's role needs "Cancel order".

    **Which orders.** VTEX cancels an order until it is invoiced: invoiced, partially invoiced and
    incomplete orders are refused for good. With ``check_first`` (the default) the order is read first:
    such an order fails the task at once, without retries and without a request, saying what to do (a
    return invoice, type ``Input``, for what was invoiced); an order already canceled (or whose
    cancellation is requested) succeeds with ``"already_applied"`` and nothing is sent, so a retry or a
    re-run cancels once. VTEX may decline a cancellation asked inside the order's grace window (the
    window the customer has to cancel): ``status`` in the result says where the order is after the call.

    **Once.** An answer lost in transit is settled by reading the order back (its status) before
    anything is sent again (:meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.cancel_order`).

    :param order_id: the VTEX order id (templated).
    :param reason: why (templated); VTEX shows it on the order.
    :param check_first: read the order first (see above).
    :param vtex_conn_id: the ``vtex`` connection (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, ``{"order_id", "outcome", "status"}``: ``outcome`` is ``"sent"`` or
        ``"already_applied"``; ``status`` the order's status after the call.
    """

    template_fields: Sequence[str] = ("order_id", "reason", *VTEX_TEMPLATE_FIELDS)

    def __init__(
        self, *, order_id: str, reason: str | None = None, check_first: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.reason = reason
        self.check_first = check_first

    def execute(self, context: Context) -> dict[str, Any]:
        with self.vtex_errors():
            outcome, status = self.hook.cancel_order_once(
                self.order_id, self.reason, check_first=self.check_first
            )
        self.log.info("Order %s: %s (now '%s').", self.order_id, outcome.value, status)
        return {"order_id": str(self.order_id), "outcome": outcome.value, "status": status}
