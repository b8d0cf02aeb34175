"""Invoice many orders at once: one mapped task instance per order.

``fetch_invoices_from_erp`` stands for your ERP: it returns every invoice issued since the last run,
each as ``{"order_id": ..., "invoice": {...}}``. ``expand_kwargs`` then makes one
``InvoiceNotificationOperator`` task instance per order, so one failing order fails (and retries) alone
and the Grid view shows each order by id.

For thousands of invoices per run, prefer chunks with a bulk operator over one task per order: the
scheduling overhead of a task instance dwarfs one HTTP call.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]


@dag(
    dag_id="example_vtex_invoice_many_orders",
    schedule=None,  # CHANGE: e.g. "@hourly" to pick up what the ERP invoiced
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_invoice_many_orders() -> None:
    @task
    def fetch_invoices_from_erp() -> list[dict[str, object]]:
        """CHANGE: query your ERP for the invoices issued since the last run."""
        issued = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

        def invoice(
            order_id: str, number: str, total: int, items: list[dict[str, object]]
        ) -> dict[str, object]:
            return {
                "order_id": order_id,
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": number,
                    "invoiceValue": total,  # cents; the operator sends it as VTEX's digit string
                    "issuanceDate": issued,
                    "items": items,
                },
            }

        return [
            invoice("70caf3941s6df1", "NF-200001", 7497, [{"id": "2001", "price": 2499, "quantity": 3}]),
            invoice("v502559llux-01", "NF-200002", 13000, [{"id": "4410", "price": 3250, "quantity": 4}]),
            invoice(
                "1172452900791-01",
                "NF-200003",
                10640,
                [{"id": "6100", "price": 8900, "quantity": 1}, {"id": "6101", "price": 150, "quantity": 5}],
            ),
        ]

    InvoiceNotificationOperator.partial(
        task_id="notify_invoice",
        map_index_template="{{ task.order_id }}",  # the Grid view names each instance by its order
    ).expand_kwargs(fetch_invoices_from_erp())


example_vtex_invoice_many_orders()
