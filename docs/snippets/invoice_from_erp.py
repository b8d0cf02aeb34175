from __future__ import annotations

import datetime as dt

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11
    from airflow.decorators import dag, task

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator


@dag(
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    params={"order_id": "1172452900788-01"},
)
def invoice_from_erp() -> None:
    @task
    def erp_invoice(params: dict[str, str] | None = None) -> dict[str, object]:
        # Your ERP call here: return the invoice it issued for params["order_id"].
        return {
            "type": "Output",
            "invoiceNumber": "NF-100234",
            "invoiceValue": 10470,
            "issuanceDate": "2024-02-09T10:00:00-03:00",
            "items": [{"id": "18", "price": 990, "quantity": 1}, {"id": "27", "price": 4590, "quantity": 2}],
        }

    invoice = InvoiceNotificationOperator(
        task_id="notify_invoice",
        order_id="{{ params.order_id }}",
        invoice=erp_invoice(),
        check_existing="always",  # the default: a re-run finds the invoice on the order and skips it
    )
    tracking = TrackingNotificationOperator(
        task_id="notify_tracking",
        order_id="{{ params.order_id }}",
        invoice_number="{{ ti.xcom_pull(task_ids='notify_invoice')['invoice_number'] }}",
        tracking={"trackingNumber": "BR123456789XX", "courier": "Correios"},
    )
    invoice >> tracking


invoice_from_erp()
