"""TrackingNotificationOperator: tell VTEX an invoiced order shipped, moved, or was delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.operators.base import VtexBaseOperator, order_id_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models import Tracking, TrackingStatus


class TrackingNotificationOperator(VtexBaseOperator):
    """Send tracking for an invoice VTEX already holds.

    VTEX takes tracking on two routes, and this operator calls them in the order VTEX requires:

    1. the tracking number, URL, courier and dispatch date
       (``PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}``), when the payload has them;
    2. the tracking events and delivery (``PUT .../invoice/{invoiceNumber}/tracking``), when the payload
       has ``isDelivered``, ``deliveredDate`` or ``events``.

    :param order_id: the VTEX order id (templated).
    :param invoice_number: the invoice the parcel belongs to (templated).
    :param tracking: the payload (templated): a dict, JSON string, ``XComArg`` or model; for example
        ``{"trackingNumber": "BR123", "courier": "Correios", "events": [...], "isDelivered": False}``.
    :param vtex_conn_id: the ``vtex`` connection to use.
    :return: to XCom, ``{"order_id", "invoice_number", "tracking_receipt", "status_receipt"}``, each receipt
        being VTEX's ``{date, orderId, receipt}`` or ``None`` for a route that was not called.
    """

    template_fields: Sequence[str] = ("order_id", "invoice_number", "tracking")
    template_fields_renderers: ClassVar[dict[str, str]] = {"tracking": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        invoice_number: str,
        tracking: Tracking | TrackingStatus | Mapping[str, Any] | str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.order_id = order_id
        self.invoice_number = invoice_number
        self.tracking = tracking

    def execute(self, context: Context) -> dict[str, Any]:
        order_id = order_id_text(self.order_id)
        with self.vtex_errors():
            invoice_number = _invoice_number(self.invoice_number)
            from airflow_provider_vtex.models import split_tracking_payload  # at run time, not DAG parse time

            tracking, status = split_tracking_payload(self.tracking)
            tracking_receipt = status_receipt = None
            if tracking is not None:
                tracking_receipt = self.hook.notify_tracking(order_id, invoice_number, tracking)
                self.log.info(
                    "VTEX stored tracking number %s for invoice %s of order %s: receipt %s",
                    tracking.tracking_number,
                    invoice_number,
                    order_id,
                    tracking_receipt.get("receipt"),
                )
            if status is not None:
                status_receipt = self.hook.update_tracking_status(order_id, invoice_number, status)
                self.log.info(
                    "VTEX stored %d tracking event(s), delivered=%s, for invoice %s of order %s: receipt %s",
                    len(status.events),
                    status.is_delivered,
                    invoice_number,
                    order_id,
                    status_receipt.get("receipt"),
                )
        return {
            "order_id": order_id,
            "invoice_number": invoice_number,
            "tracking_receipt": tracking_receipt,
            "status_receipt": status_receipt,
        }


def _invoice_number(value: Any) -> str:
    try:
        from airflow_provider_vtex.models import check_invoice_number

        return check_invoice_number(value)
    except ValueError as exc:
        raise VtexPayloadError("tracking", [("invoice_number", str(exc))]) from None
