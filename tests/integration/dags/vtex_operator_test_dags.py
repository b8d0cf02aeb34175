"""DAGs used by tests/integration/test_operators.py: templating, XCom, dynamic mapping and refusals.

They live in a DAGs folder because Airflow 3's ``dag.test()`` only runs DAGs it can parse from there.
The ``vtex_default`` connection comes from ``AIRFLOW_CONN_VTEX_DEFAULT``, which the test points at a
sandbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.models import Invoice
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
DAG_ARGS: dict[str, Any] = {"schedule": None, "start_date": START, "catchup": False, "tags": ["vtex-tests"]}


@dag(dag_id="vtex_test_templating", **DAG_ARGS)
def templating() -> None:
    @task
    def erp() -> dict[str, object]:
        return {"number": "NF-2001", "total": 7497, "sku": "2001", "units": 3, "unit_price": 2499}

    invoice_data = erp()
    invoice = InvoiceNotificationOperator(
        task_id="invoice",
        order_id="{{ params.order_id }}",
        invoice={
            "type": "Output",
            "invoiceNumber": "{{ ti.xcom_pull(task_ids='erp')['number'] }}",
            "invoiceValue": "{{ ti.xcom_pull(task_ids='erp')['total'] }}",
            "issuanceDate": "{{ logical_date.isoformat() if logical_date else ts }}",
            "items": [
                {
                    "id": "{{ ti.xcom_pull(task_ids='erp')['sku'] }}",
                    "price": "{{ ti.xcom_pull(task_ids='erp')['unit_price'] }}",
                    "quantity": "{{ ti.xcom_pull(task_ids='erp')['units'] }}",
                }
            ],
        },
        params={"order_id": "70caf3941s6df1"},
    )
    tracking = TrackingNotificationOperator(
        task_id="tracking",
        order_id="70caf3941s6df1",
        invoice_number="{{ ti.xcom_pull(task_ids='invoice')['invoice_number'] }}",
        tracking={"trackingNumber": "BR-{{ ti.xcom_pull(task_ids='erp')['number'] }}", "courier": "Correios"},
    )
    delivered = TrackingNotificationOperator(
        task_id="delivered",
        order_id="70caf3941s6df1",
        invoice_number="NF-2001",
        tracking={
            "isDelivered": True,
            "deliveredDate": "2024-02-10 14:30",
            "events": [
                {"city": "Rio de Janeiro", "state": "RJ", "description": "Entregue", "date": "2024-02-10"}
            ],
        },
    )
    invoice_data >> invoice >> tracking >> delivered


@dag(dag_id="vtex_test_xcom_payload", **DAG_ARGS)
def xcom_payload() -> None:
    @task
    def erp() -> str:
        # A JSON string, as an ERP export often is.
        return (
            '{"type": "Output", "invoiceNumber": "NF-3001", "invoiceValue": 12980, '
            '"issuanceDate": "2024-03-01T10:00:00-03:00", "items": [{"id": "4410", "price": 3245, "quantity": 4}]}'
        )

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    InvoiceNotificationOperator(task_id="invoice", order_id="v502559llux-01", invoice=erp())  # type: ignore[arg-type]


@dag(dag_id="vtex_test_model_payload", **DAG_ARGS)
def model_payload() -> None:
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="1172452900791-01",
        invoice=Invoice(
            type="Output",
            invoice_number="NF-4001",
            invoice_value="10640",  # items 9650 + shipping 990
            issuance_date="2024-03-02T10:00:00-03:00",
            items=[{"id": "6100", "price": 8900, "quantity": 1}, {"id": "6101", "price": 150, "quantity": 5}],  # type: ignore[list-item]
        ),
    )


@dag(dag_id="vtex_test_mapping", **DAG_ARGS)
def mapping() -> None:
    @task
    def erp() -> list[dict[str, object]]:
        def one(order_id: str, number: str, sku: str, price: int, quantity: int) -> dict[str, object]:
            return {
                "order_id": order_id,
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": number,
                    "invoiceValue": price * quantity,
                    "issuanceDate": "2024-03-03T09:00:00Z",
                    "items": [{"id": sku, "price": price, "quantity": quantity}],
                },
            }

        return [
            one("70caf3941s6df1", "NF-5001", "2001", 2499, 3),
            one("v502559llux-01", "NF-5002", "4410", 3250, 4),
            one("1172452900791-01", "NF-5003", "6100", 8900, 1),
        ]

    InvoiceNotificationOperator.partial(task_id="invoice", retries=0).expand_kwargs(erp())


@dag(
    dag_id="vtex_test_invalid_payload",
    default_args={"retries": 3, "retry_delay": dt.timedelta(seconds=30)},
    **DAG_ARGS,
)
def invalid_payload() -> None:
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="70caf3941s6df1",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF 6001",
            "invoiceValue": "74.97",
            "issuanceDate": "2024-03-04T10:00:00-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        },
    )


@dag(
    dag_id="vtex_test_unknown_order",
    default_args={"retries": 3, "retry_delay": dt.timedelta(seconds=30)},
    **DAG_ARGS,
)
def unknown_order() -> None:
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="no-such-order",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-7001",
            "invoiceValue": "100",
            "issuanceDate": "2024-03-04T10:00:00-03:00",
            "items": [{"id": "2001", "price": 100, "quantity": 1}],
        },
    )


templating()
xcom_payload()
model_payload()
mapping()
invalid_payload()
unknown_order()


#: VTEX's reference payload: the PII route's InvoiceNotification2 (issuedDate, itemIndex, digit strings).
REFERENCE_INVOICE = {
    "cfop": "6.104",
    "courier": "corrupti",
    "extraValue": 100,
    "invoiceKey": "illum",
    "invoiceNumber": "123456789",
    "invoiceUrl": "vel",
    "invoiceValue": "2499",
    "issuedDate": "2020-07-15",
    "items": [{"itemIndex": "67", "price": 2499, "quantity": 3}] * 3,
    "trackingNumber": "deserunt",
    "trackingUrl": "suscipit",
    "type": "Output",
    "volumes": 3,
}


@dag(
    dag_id="vtex_test_reference_payload",
    default_args={"retries": 3, "retry_delay": dt.timedelta(seconds=30)},
    **DAG_ARGS,
)
def reference_payload() -> None:
    InvoiceNotificationOperator(task_id="invoice", order_id="70caf3941s6df1", invoice=REFERENCE_INVOICE)


reference_payload()
