"""DAGs for tests/test_bulk.py: bulk invoicing with partial failures and with a retry that finishes
only the remainder."""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.10 / 2.11
    from airflow.decorators import dag, task

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
FAST = {
    "backoff_initial": 0.05,
    "backoff_max": 1.0,
    "readback_timeout": 1.0,
    "readback_interval": 0.2,
    "max_retries": 0,
}


def invoice(
    order_id: str, number: str, sku: str = "1", price: int = 1000, quantity: int = 1
) -> dict[str, object]:
    return {
        "order_id": order_id,
        "invoice": {
            "type": "Output",
            "invoiceNumber": number,
            "invoiceValue": price * quantity,
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": sku, "price": price, "quantity": quantity}],
        },
    }


@dag(dag_id="vtex_test_bulk_partial", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def bulk_partial() -> None:
    @task
    def erp() -> list[dict[str, object]]:
        bad = invoice("v502559llux-01", "NF 2")  # a space in the invoice number
        return [
            invoice("70caf3941s6df1", "NF-B1", "2001", 2499, 3),
            bad,
            invoice("no-such-order", "NF-B3"),
            invoice("1172452900791-01", "NF-B4", "6100", 8900, 1),
        ]

    BulkInvoiceNotificationOperator(
        task_id="bulk", invoices=erp(), max_concurrency=4, hook_params=FAST, retries=2
    )


@dag(dag_id="vtex_test_bulk_retry", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def bulk_retry() -> None:
    @task
    def erp() -> list[dict[str, object]]:
        return [invoice(f"bulk-{n:04d}", f"NF-R{n:04d}") for n in range(40)]

    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),
        max_concurrency=8,
        hook_params=FAST,
        retries=1,
        retry_delay=dt.timedelta(seconds=1),
    )


bulk_partial()
bulk_retry()
