"""DAGs for tests/integration/test_bulk.py: bulk invoicing with partial failures, a retry that finishes only the
remainder, VTEX's faults at scale, duplicate entries and the request-rate cap."""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

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

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),  # type: ignore[arg-type]
        max_concurrency=4,
        hook_params=FAST,
        retries=2,
    )


@dag(dag_id="vtex_test_bulk_retry", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def bulk_retry() -> None:
    @task
    def erp() -> list[dict[str, object]]:
        return [invoice(f"bulk-{n:04d}", f"NF-R{n:04d}") for n in range(40)]

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),  # type: ignore[arg-type]
        max_concurrency=8,
        hook_params=FAST,
        retries=1,
        retry_delay=dt.timedelta(seconds=1),
    )


#: Real retries with short waits: what a bulk task under VTEX's faults needs to finish on its first try.
RESILIENT = {
    "backoff_initial": 0.05,
    "backoff_max": 0.5,
    "readback_timeout": 2.0,
    "readback_interval": 0.2,
    "max_retries": 3,
}


@dag(
    dag_id="vtex_test_bulk_faults",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"count": 40, "prefix": "fault"},
    tags=["vtex-tests"],
)
def bulk_faults() -> None:
    @task
    def erp(params: dict[str, object] | None = None) -> list[dict[str, object]]:
        params = params or {}
        prefix, count = params["prefix"], int(str(params["count"]))
        return [invoice(f"{prefix}-{n:05d}", f"NF-{prefix}-{n:05d}") for n in range(count)]

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),  # type: ignore[arg-type]
        max_concurrency=8,
        hook_params=RESILIENT,
        retries=1,
        retry_delay=dt.timedelta(seconds=1),
    )


@dag(dag_id="vtex_test_bulk_duplicates", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def bulk_duplicates() -> None:
    same = invoice("70caf3941s6df1", "NF-D1", "2001", 2499, 3)
    BulkInvoiceNotificationOperator(
        task_id="duplicates",
        invoices=[same, same, invoice("1172452900791-01", "NF-D2", "6100", 8900, 1), same],
        check_existing="always",
        hook_params=FAST,
    )
    BulkInvoiceNotificationOperator(
        task_id="conflicts",
        invoices=[
            invoice("v502559llux-01", "NF-D3", "1", 1000, 1),
            invoice("v502559llux-01", "NF-D3", "1", 1000, 2),  # same order and number, different invoice
        ],
        hook_params=FAST,
        retries=2,
    )


@dag(dag_id="vtex_test_bulk_rate_cap", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def bulk_rate_cap() -> None:
    @task
    def erp() -> list[dict[str, object]]:
        return [invoice(f"rate-{n:03d}", f"NF-RATE-{n:03d}") for n in range(40)]

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),  # type: ignore[arg-type]
        max_concurrency=8,
        max_requests_per_second=10,
        hook_params=FAST,
    )


bulk_partial()
bulk_retry()
bulk_faults()
bulk_duplicates()
bulk_rate_cap()
