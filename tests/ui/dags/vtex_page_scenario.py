"""The VTEX page's browser test scenario (tests/ui/test_vtex_page.py): one run that leaves a refused
invoice, a throttled drain and an invoice sent, against the sandbox the test prepared.

- ``refuse_invoice``: an invoice for an order VTEX holds as canceled: VTEX refuses it (a 4xx with its code);
  no retries, so the run's task fails at once.
- ``drain_ready_orders``: takes the orders waiting in ready-for-handling into handling while the sandbox
  answers 429 to some of them (the test adds the fault), and waits as VTEX asks.
- ``invoice_one``: invoices one of the drained orders (an order out).
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

CANCELED_ORDER = "1172452900790-01"  # seeded canceled; its one SKU is 5002
DRAINED_ORDERS = [f"PAGE-{n}-01" for n in range(1, 6)]

with DAG("vtex_page_scenario", schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False):
    InvoiceNotificationOperator(
        task_id="refuse_invoice",
        order_id=CANCELED_ORDER,
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-REFUSED-1",
            "invoiceValue": 1000,
            "issuanceDate": "2026-12-01T10:00:00+00:00",
            "items": [{"id": "5002", "price": 1000, "quantity": 1}],
        },
        retries=0,
    )
    drain = VtexStartHandlingOperator(
        task_id="drain_ready_orders",
        order_ids=DRAINED_ORDERS,
        hook_params={"backoff_max": 2.0},
        retries=0,
    )
    invoice = InvoiceNotificationOperator(
        task_id="invoice_one",
        order_id=DRAINED_ORDERS[0],
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-PAGE-1",
            "invoiceValue": 2499,
            "issuanceDate": "2026-12-01T10:00:00+00:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 1}],
        },
        retries=0,
    )
    drain >> invoice
