"""Invoice an order in VTEX after the ERP issued it, then send its tracking until delivery.

The flow VTEX expects from an ERP integration:

0. ``wait_until_ready_for_handling`` waits (in reschedule mode, freeing the worker) until VTEX says the
   order can be invoiced, and fails at once if it was canceled.
1. ``fetch_invoice_from_erp`` stands for your ERP: replace its body with the query or API call that
   returns the invoice the ERP issued for the order.
2. ``notify_invoice`` sends it to VTEX (``POST .../invoice``); the payload is templated from the ERP
   task's XCom and from Jinja macros, and validated before anything is sent.
3. ``notify_tracking`` sends the carrier's tracking number (``PATCH .../invoice/{invoiceNumber}``).
4. ``fetch_carrier_events`` stands for your carrier's API; ``notify_delivery`` sends its events and
   the delivery (``PUT .../invoice/{invoiceNumber}/tracking``).

To adapt it: set the ``vtex_default`` connection (App Key, App Token, account name), replace the two
stand-in tasks, and trigger with ``{"order_id": "<your order id>"}``.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

ERP_TASK = "fetch_invoice_from_erp"


@dag(
    dag_id="example_vtex_invoice_after_erp",
    schedule=None,  # CHANGE: e.g. "*/15 * * * *" to poll your ERP, or trigger per order
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    params={"order_id": "1172452900788-01"},  # CHANGE: the default order to invoice
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_invoice_after_erp() -> None:
    ready = VtexOrderStatusSensor(
        task_id="wait_until_ready_for_handling",
        order_id="{{ params.order_id }}",
        statuses=["ready-for-handling", "handling"],
        mode="reschedule",
        poke_interval=60,  # CHANGE: how often to ask VTEX
        timeout=6 * 60 * 60,  # CHANGE: give up after 6 hours
    )

    @task(task_id=ERP_TASK, multiple_outputs=True)
    def fetch_invoice_from_erp(params: dict[str, str] | None = None) -> dict[str, object]:
        """CHANGE: read the invoice your ERP issued for ``params["order_id"]``."""
        return {
            "invoice_number": "NF-100234",
            "total_cents": 10470,  # items 10170 + shipping 300, in cents
            "access_key": "35240112345678000190550010001002341000002346",
            "items": [
                {"id": "18", "price": 990, "quantity": 1},
                {"id": "27", "price": 4590, "quantity": 2},
            ],
            "carrier": "Correios",
            "tracking_number": "BR123456789XX",
        }

    erp = fetch_invoice_from_erp()

    notify_invoice = InvoiceNotificationOperator(
        task_id="notify_invoice",
        order_id="{{ params.order_id }}",
        invoice={
            "type": "Output",
            # Jinja renders strings; the operator accepts digit strings for amounts in cents.
            "invoiceNumber": "{{ ti.xcom_pull(task_ids='" + ERP_TASK + "', key='invoice_number') }}",
            "invoiceValue": "{{ ti.xcom_pull(task_ids='" + ERP_TASK + "', key='total_cents') }}",
            "issuanceDate": "{{ macros.datetime.now().astimezone().isoformat(timespec='seconds') }}",
            "invoiceKey": "{{ ti.xcom_pull(task_ids='" + ERP_TASK + "', key='access_key') }}",
            # CHANGE: where your ERP publishes invoice PDFs/XMLs.
            "invoiceUrl": "https://erp.example.com/invoices/{{ ti.xcom_pull(task_ids='"
            + ERP_TASK
            + "', key='invoice_number') }}.pdf",
            # An XComArg keeps the list a list (Jinja would render it to text).
            # an XComArg stands for its value at run time, which Airflow's types cannot say
            "items": erp["items"],  # type: ignore[index]
        },
    )

    notify_tracking = TrackingNotificationOperator(
        task_id="notify_tracking",
        order_id="{{ params.order_id }}",
        invoice_number="{{ ti.xcom_pull(task_ids='notify_invoice')['invoice_number'] }}",
        tracking={
            # XComArgs stand for their values at run time, which Airflow's types cannot say
            "trackingNumber": erp["tracking_number"],  # type: ignore[index]
            "courier": erp["carrier"],  # type: ignore[index]
            "trackingUrl": "https://rastreamento.correios.com.br/app/index.php?objeto={{ ti.xcom_pull(task_ids='"
            + ERP_TASK
            + "', key='tracking_number') }}",
            "dispatchedDate": "{{ macros.datetime.now().astimezone().isoformat(timespec='seconds') }}",
        },
    )

    @task
    def fetch_carrier_events() -> dict[str, object]:
        """CHANGE: ask your carrier where the parcel is; VTEX shows these events to the customer."""
        return {
            "isDelivered": True,
            "deliveredDate": "2024-02-12 15:40",  # VTEX's format: yyyy-mm-dd hh:mm
            "events": [
                {
                    "city": "Sao Paulo",
                    "state": "SP",
                    "description": "Coletado pela transportadora",
                    "date": "2024-02-10",
                },
                {"city": "Curitiba", "state": "PR", "description": "Em transito", "date": "2024-02-11"},
                {
                    "city": "Rio de Janeiro",
                    "state": "RJ",
                    "description": "Entregue ao destinatario",
                    "date": "2024-02-12",
                },
            ],
        }

    notify_delivery = TrackingNotificationOperator(
        task_id="notify_delivery",
        order_id="{{ params.order_id }}",
        invoice_number="{{ ti.xcom_pull(task_ids='notify_invoice')['invoice_number'] }}",
        # an XComArg stands for its value at run time, which Airflow's types cannot say
        tracking=fetch_carrier_events(),  # type: ignore[arg-type]
    )

    ready >> notify_invoice >> notify_tracking >> notify_delivery


example_vtex_invoice_after_erp()
