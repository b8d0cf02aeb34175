"""TrackingNotificationOperator: tell VTEX an invoiced order shipped, moved, or was delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.assets import TRACKING
from airflow_provider_vtex.operators.asset_events import emit_asset_event, with_asset_outlet
from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models import Tracking, TrackingStatus


class TrackingNotificationOperator(VtexBaseOperator):
    """Send tracking for an invoice VTEX already holds (standard route set).

    VTEX takes tracking on two routes, and this operator calls them in the order VTEX requires:

    1. the tracking number, URL, courier and dispatch date
       (``PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}``), when the payload has them; the
       keys not given keep the values VTEX holds (they are read from the order and sent back);
    2. the tracking events and delivery (``PUT .../invoice/{invoiceNumber}/tracking``), when the payload
       has ``isDelivered``, ``deliveredDate`` or ``events``.

    On a connection with ``data_architecture: pii`` the task fails at once, sending nothing: VTEX's PII
    route set has no tracking routes, and its invoice route refuses the same invoice number twice, so
    tracking travels inside the invoice payload there.

    :param order_id: the VTEX order id (templated).
    :param invoice_number: the invoice the parcel belongs to (templated).
    :param tracking: the payload (templated): a dict, JSON string, ``XComArg`` or model; for example
        ``{"trackingNumber": "BR123", "courier": "Correios", "events": [...], "isDelivered": False}``.
    :param asset_account: the VTEX account name, to emit an asset event (Airflow 3): the task then updates
        ``vtex://{asset_account}/orders/tracking`` with ``{"order_id", "invoice_number", "tracking_number",
        "delivered"}`` in the event's extra. On Airflow 2: a warning, no event.
    :param vtex_conn_id: the ``vtex`` connection to use (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, ``{"order_id", "invoice_number", "tracking_receipt", "status_receipt"}``, each receipt
        being ``{"order_id", "receipt", "date"}``, or ``None`` for a route that was not called.
    """

    template_fields: Sequence[str] = ("order_id", "invoice_number", "tracking", *VTEX_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"tracking": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        invoice_number: str,
        tracking: Tracking | TrackingStatus | Mapping[str, Any] | str,
        asset_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_asset_outlet(kwargs, asset_account, TRACKING))
        self.asset_account = asset_account
        self.order_id = order_id
        self.invoice_number = invoice_number
        self.tracking = tracking

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_vtex.models import split_tracking_payload  # at run time, not DAG parse time

        tracking_receipt = status_receipt = None
        with self.vtex_errors():
            order_id, invoice_number = self.hook.checked_route_values(self.order_id, self.invoice_number)
            tracking, status = split_tracking_payload(self.tracking)
            if tracking is not None:
                tracking_receipt = self.hook.notify_tracking(order_id, invoice_number, tracking)
                self.log.info(
                    "VTEX stored tracking number %s for invoice %s of order %s: receipt %s",
                    tracking.tracking_number,
                    invoice_number,
                    order_id,
                    tracking_receipt.receipt,
                )
            if status is not None:
                status_receipt = self.hook.update_tracking_status(order_id, invoice_number, status)
                self.log.info(
                    "VTEX stored %d tracking event(s), delivered=%s, for invoice %s of order %s: receipt %s",
                    len(status.events),
                    status.is_delivered,
                    invoice_number,
                    order_id,
                    status_receipt.receipt,
                )
        extra = {
            "order_id": order_id,
            "invoice_number": invoice_number,
            "tracking_number": tracking.tracking_number if tracking is not None else None,
            "delivered": status.is_delivered if status is not None else None,
        }
        emit_asset_event(self, context, self.asset_account, TRACKING, extra)
        return {
            "order_id": order_id,
            "invoice_number": invoice_number,
            "tracking_receipt": tracking_receipt.to_xcom() if tracking_receipt else None,
            "status_receipt": status_receipt.to_xcom() if status_receipt else None,
        }
