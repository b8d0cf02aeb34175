"""Invoice an order and record an asset event for it, so the tracking DAG runs (Airflow 3).

The invoice task is given ``asset_account``: when it succeeds, Airflow records an event on the asset
``vtex://mystore/orders/invoiced`` whose extra holds the order id, the invoice number and the outcome.
``example_vtex_tracking_on_invoice_events`` is scheduled on that asset: each invoice starts a tracking
run for it, with no polling and no cron. On Airflow 2 the invoice is sent all the same, and the task logs
that asset events need Airflow 3.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag  # type: ignore[attr-defined,no-redef]

#: CHANGE: your VTEX account name (the host of https://{account}.vtexcommercestable.com.br): it names the
#: asset, so the tracking DAG must use the same.
VTEX_ACCOUNT = "mystore"


@dag(
    dag_id="example_vtex_invoice_emits_asset_event",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_invoice_emits_asset_event() -> None:
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="{{ params.order_id }}",
        # CHANGE: the invoice your ERP issued (here: the seeded order's 3 units of SKU 123 at 24.99).
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-AS-{{ params.order_id.split('-')[0] }}",
            "invoiceValue": "7497",
            "issuanceDate": "{{ ts }}",
            "items": [{"id": "123", "price": 2499, "quantity": 3}],
        },
        asset_account=VTEX_ACCOUNT,
        params={"order_id": "v71021948str-01"},
    )


example_vtex_invoice_emits_asset_event()
