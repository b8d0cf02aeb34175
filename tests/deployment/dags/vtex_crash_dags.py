"""DAGs the deployment tests crash on purpose (tests/deployment/test_crash_recovery.py).

Each runs against the ``vtex_default`` connection the deployment's environment defines (the test's
sandbox). The hook keeps its defaults, ``readback_timeout`` 30 s included: the guarantee under test is
the shipped one.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from typing import Any

from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
INVOICE = {
    "type": "Output",
    "invoiceNumber": "{{ params.invoice_number }}",
    "invoiceValue": 1990,
    "issuanceDate": "2024-03-01T10:00:00-03:00",
    "items": [{"id": "5001", "price": 1990, "quantity": 1}],
}


class InvoiceThenCrash(InvoiceNotificationOperator):
    """Sends the invoice, then, on the first try: with ``params.crash``, SIGKILLs its own process (VTEX
    has applied the invoice and Airflow never hears of it); with ``params.linger`` seconds, waits that
    long before returning, so a test can kill the whole worker meanwhile."""

    def execute(self, context: Any) -> dict[str, Any]:
        result = super().execute(context)
        if context["ti"].try_number == 1:
            if context["params"].get("crash"):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(float(context["params"].get("linger") or 0))
        return result


@dag(
    dag_id="vtex_crash_invoice",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"order_id": "crash-0001", "invoice_number": "NF-CRASH-1", "crash": True, "linger": 0},
    default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=3)},
    tags=["vtex-tests"],
)
def crash_invoice() -> None:
    InvoiceThenCrash(task_id="invoice", order_id="{{ params.order_id }}", invoice=INVOICE)


@dag(
    dag_id="vtex_crash_invoice_no_retry",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"order_id": "crash-0002", "invoice_number": "NF-CRASH-2", "crash": True},
    default_args={"retries": 0},
    tags=["vtex-tests"],
)
def crash_invoice_no_retry() -> None:
    InvoiceThenCrash(task_id="invoice", order_id="{{ params.order_id }}", invoice=INVOICE)


@dag(
    dag_id="vtex_crash_bulk",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"count": 400, "prefix": "bulk"},
    default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=3)},
    tags=["vtex-tests"],
)
def crash_bulk() -> None:
    @task
    def erp(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        params = params or {}
        prefix = params["prefix"]
        return [
            {
                "order_id": f"{prefix}-{n:05d}",
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": f"NF-{prefix}-{n:05d}",
                    "invoiceValue": 1990,
                    "issuanceDate": "2024-03-01T10:00:00-03:00",
                    "items": [{"id": "5001", "price": 1990, "quantity": 1}],
                },
            }
            for n in range(int(params["count"]))
        ]

    # 100 requests/s: the test's kill lands mid-chunk (400 POSTs take 4 s), not after the last one.
    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator(
        task_id="bulk",
        invoices=erp(),  # type: ignore[arg-type]
        max_concurrency=8,
        max_requests_per_second=100,
    )


crash_invoice()
crash_invoice_no_retry()
crash_bulk()
