"""InvoiceNotificationOperator: tell VTEX that an order was invoiced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.models import Invoice
from airflow_provider_vtex.operators.base import VtexBaseOperator, order_id_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context


class InvoiceNotificationOperator(VtexBaseOperator):
    """Send an order's invoice to VTEX (``POST /api/oms/pvt/orders/{orderId}/invoice``).

    The invoice is validated against VTEX's contract after templating and before any request: an
    invalid one fails the task at once (``AirflowFailException``, no retries spent) and sends nothing.

    :param order_id: the VTEX order id (templated).
    :param invoice: the invoice (templated): a dict (Jinja allowed inside), a JSON string, an
        ``XComArg`` from the ERP task, or an :class:`~airflow_provider_vtex.models.Invoice`.
    :param vtex_conn_id: the ``vtex`` connection to use.
    :return: to XCom, ``{"order_id", "invoice_number", "receipt", "date"}`` from VTEX's answer.
    """

    template_fields: Sequence[str] = ("order_id", "invoice")
    template_fields_renderers: ClassVar[dict[str, str]] = {"invoice": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        invoice: Invoice | Mapping[str, Any] | str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.invoice = invoice

    def execute(self, context: Context) -> dict[str, Any]:
        order_id = order_id_text(self.order_id)
        with self.vtex_errors():
            invoice = Invoice.parse(self.invoice)
            answer = self.hook.notify_invoice(order_id, invoice)
        self.log.info(
            "VTEX accepted invoice %s (value %s, type %s) for order %s: receipt %s",
            invoice.invoice_number,
            invoice.invoice_value,
            invoice.type,
            order_id,
            answer.get("receipt"),
        )
        return {
            "order_id": order_id,
            "invoice_number": invoice.invoice_number,
            "receipt": answer.get("receipt"),
            "date": answer.get("date"),
        }
