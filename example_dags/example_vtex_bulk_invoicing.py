"""Invoice 10,000 orders a run: chunks of invoices, one bulk task per chunk, spread over workers.

``fetch_invoices_from_erp`` stands for your ERP's export of the invoices issued since the last run.
``split_into_chunks`` cuts the list into chunks of ``chunk_size``; ``BulkInvoiceNotificationOperator`` is
mapped over the chunks, so with the Celery or Kubernetes executor each chunk can run on a different
worker. Inside a chunk, up to ``max_concurrency`` invoices are in flight.

Rate: VTEX's rate limits are per account and undisclosed. Set the account's budget once, on the
connection (extra ``max_requests_per_second``): every chunk on every worker, and the triggerer, share it,
and a 429 pauses all of them (docs: "Accounts and request budgets"). Nothing to divide per chunk.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import Param, dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]
    from airflow.models.param import Param  # type: ignore[no-redef]


@dag(
    dag_id="example_vtex_bulk_invoicing",
    schedule=None,  # CHANGE: e.g. "0 * * * *" to invoice every hour what the ERP issued
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    params={
        "invoice_count": Param(
            10_000, type="integer", minimum=1, title="How many invoices the stand-in ERP returns"
        ),
        "chunk_size": Param(1_000, type="integer", minimum=1, title="Invoices per bulk task"),
    },
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=1)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_bulk_invoicing() -> None:
    @task
    def fetch_invoices_from_erp(params: dict[str, int] | None = None) -> list[dict[str, object]]:
        """CHANGE: query your ERP. This stand-in makes ``invoice_count`` one-item invoices."""
        count = int((params or {}).get("invoice_count", 10_000))
        issued = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return [
            {
                "order_id": f"bulk-{n:06d}-01",
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": f"NF-{n:06d}",
                    "invoiceValue": 1990,
                    "issuanceDate": issued,
                    "items": [{"id": "5001", "price": 1990, "quantity": 1}],
                },
            }
            for n in range(count)
        ]

    @task
    def split_into_chunks(
        invoices: list[dict[str, object]], params: dict[str, int] | None = None
    ) -> list[list[dict[str, object]]]:
        size = int((params or {}).get("chunk_size", 1_000))
        return [invoices[start : start + size] for start in range(0, len(invoices), size)]

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    BulkInvoiceNotificationOperator.partial(
        task_id="notify_invoices",
        max_concurrency=8,  # CHANGE: invoices in flight per chunk
        # The account's budget is the connection's max_requests_per_second, shared by every chunk; a
        # chunk's own max_requests_per_second is only a further cap on that chunk.
        max_active_tis_per_dagrun=4,  # CHANGE: chunks running at once
    ).expand(invoices=split_into_chunks(fetch_invoices_from_erp()))  # type: ignore[arg-type]


example_vtex_bulk_invoicing()
