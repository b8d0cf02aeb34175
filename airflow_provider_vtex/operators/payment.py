"""VtexPaymentNotificationOperator: tell VTEX that a payment of an order was received.

The ERP (or the bank) confirms a bank slip, a bank transfer or another payment VTEX waits for; this task
passes that on, on the connection's route set, so the order leaves ``payment-pending``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context


class VtexPaymentNotificationOperator(VtexBaseOperator):
    """Send VTEX's payment notification for one payment of one order.

    Standard route set: ``POST /api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification``;
    PII: ``POST /api/orders/pvt/document/{orderId}/payment/{paymentId}/notify-payment``. The key's role
    needs the License Manager resource "Notify payment".

    VTEX does not document what a second notification of the same payment does, so the notification is
    sent once (see :meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.notify_payment`): with
    ``check_first`` (the default) the order is read first and nothing is sent if its payment is already
    approved, so a retry or a re-run does not notify twice; an answer lost in transit is settled by
    reading the order back, never by sending blindly again.

    :param order_id: the VTEX order id (templated).
    :param payment_id: the payment to notify (templated): one of the order's
        ``paymentData.transactions[].payments[].id``.
    :param check_first: read the order first and skip an order already past ``payment-pending``.
    :param vtex_conn_id: the ``vtex`` connection (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, ``{"order_id", "payment_id", "outcome"}``: ``outcome`` is ``"sent"`` (VTEX answered
        200), ``"already_paid"`` (the order was already past ``payment-pending``: nothing sent) or
        ``"confirmed_by_read_back"`` (the answer was lost; the order shows the payment approved). A bad id,
        refused credentials or an unknown order or payment (404) fail the task without retries.
    """

    template_fields: Sequence[str] = ("order_id", "payment_id", *VTEX_TEMPLATE_FIELDS)

    def __init__(self, *, order_id: str, payment_id: str, check_first: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.payment_id = payment_id
        self.check_first = check_first

    def execute(self, context: Context) -> dict[str, Any]:
        with self.vtex_errors():
            outcome = self.hook.notify_payment(self.order_id, self.payment_id, check_first=self.check_first)
        self.log.info("Payment %s of order %s: %s.", self.payment_id, self.order_id, outcome.value)
        return {"order_id": str(self.order_id), "payment_id": str(self.payment_id), "outcome": outcome.value}
