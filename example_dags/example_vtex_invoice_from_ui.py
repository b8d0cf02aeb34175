"""Invoice one order by hand, from the Airflow UI's trigger form.

For the day an ERP export was wrong: open this DAG, press Trigger, fill in the form (order id, invoice
number, value in cents, items as JSON) and run. The invoice is validated before anything is sent, so a
typo fails the run at once with a message naming the field. The task's Rendered Template view shows
the payload sent to VTEX as JSON.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

try:  # Airflow 3
    from airflow.sdk import Param, dag
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag  # type: ignore[attr-defined,no-redef]
    from airflow.models.param import Param  # type: ignore[no-redef]


@dag(
    dag_id="example_vtex_invoice_from_ui",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    tags=["vtex", "example"],
    doc_md=__doc__,
    params={
        # CHANGE: the defaults; the trigger form starts from them.
        "order_id": Param("1172452900789-01", type="string", minLength=1, title="VTEX order id"),
        "invoice_type": Param(
            "Output", enum=["Output", "Input"], title="Type", description="Output = sale, Input = return"
        ),
        "invoice_number": Param(
            "NF-300001",
            type="string",
            pattern="^[A-Za-z0-9._-]+$",
            title="Invoice number",
            description="Letters, digits, '.', '-' and '_' only",
        ),
        "invoice_value": Param(
            28069, type="integer", minimum=1, title="Invoice value, in cents", description="24.99 -> 2499"
        ),
        "issuance_date": Param("2024-03-01T10:00:00-03:00", type="string", title="Issuance date (ISO 8601)"),
        "items": Param(
            [
                {"id": "3105", "price": 19990, "quantity": 1},
                {"id": "3120", "price": 3990, "quantity": 1},
                {"id": "2001", "price": 2499, "quantity": 1},
            ],
            type="array",
            # items of type object: the trigger form shows a JSON editor (without it, one string per line).
            items={"type": "object"},
            title="Items",
            description='JSON list of {"id": SKU id, "price": unit price in cents, "quantity": units}',
        ),
    },
)
def example_vtex_invoice_from_ui() -> None:
    InvoiceNotificationOperator(
        task_id="notify_invoice",
        order_id="{{ params.order_id }}",
        invoice={
            "type": "{{ params.invoice_type }}",
            "invoiceNumber": "{{ params.invoice_number }}",
            "invoiceValue": "{{ params.invoice_value }}",
            "issuanceDate": "{{ params.issuance_date }}",
            # params.items would be dict.items in Jinja; tojson hands the list over as JSON text.
            "items": "{{ params['items'] | tojson }}",
        },
    )


example_vtex_invoice_from_ui()
