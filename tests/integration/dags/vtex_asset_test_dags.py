"""DAGs used by tests/test_assets.py: the invoice, tracking and start-handling operators with
``asset_account``, so each success records an asset event (Airflow 3) with what it did in the extra."""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
ORDER = "70caf3941s6df1"  # seeded ready-for-handling: 3 x SKU 2001 at 2499


@dag(dag_id="vtex_test_asset_events", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def asset_events() -> None:
    start = VtexStartHandlingOperator(task_id="start_handling", order_ids=[ORDER], asset_account="mystore")
    invoice = InvoiceNotificationOperator(
        task_id="invoice",
        order_id=ORDER,
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-ASSET-1",
            "invoiceValue": "7497",
            "issuanceDate": "2024-01-31T18:25:43-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        },
        asset_account="MyStore",  # normalised: the same asset as vtex://mystore/orders/invoiced
    )
    tracking = TrackingNotificationOperator(
        task_id="tracking",
        order_id=ORDER,
        invoice_number="NF-ASSET-1",
        tracking={"trackingNumber": "BR-ASSET-1", "courier": "Correios"},
        asset_account="mystore",
    )
    start >> invoice >> tracking


asset_events()
