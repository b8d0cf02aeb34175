"""DAGs for the reliability tests: the fault matrix, idempotent retries, the sensor and secrets.

The tests point ``vtex_default`` at a sandbox (short timeout) and script the sandbox's faults before
each run; task retries are real Airflow retries, one second apart.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

try:  # Airflow 3
    from airflow.sdk import dag
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
#: Fast but real: small backoffs, a short read-back window, so a whole fault run takes seconds.
HOOK_PARAMS = {
    "backoff_initial": 0.05,
    "backoff_max": 2.0,
    "max_total_wait": 30.0,
    "readback_timeout": 4.0,
    "readback_interval": 0.25,
}
RETRIES = {"retries": 2, "retry_delay": dt.timedelta(seconds=1)}


@dag(
    dag_id="vtex_fault_matrix",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args=RETRIES,
    params={"order_id": "70caf3941s6df1", "invoice_number": "NF-FM-1"},
    tags=["vtex-tests"],
)
def fault_matrix() -> None:
    invoice = InvoiceNotificationOperator(
        task_id="invoice",
        order_id="{{ params.order_id }}",
        invoice={
            "type": "Output",
            "invoiceNumber": "{{ params.invoice_number }}",
            "invoiceValue": "7497",
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        },
        hook_params=HOOK_PARAMS,
    )
    tracking = TrackingNotificationOperator(
        task_id="tracking",
        order_id="{{ params.order_id }}",
        invoice_number="{{ params.invoice_number }}",
        tracking={
            "trackingNumber": "BR-FM-1",
            "courier": "Correios",
            "isDelivered": True,
            "deliveredDate": "2024-03-03 12:00",
            "events": [{"city": "Rio", "state": "RJ", "description": "Entregue", "date": "2024-03-03"}],
        },
        hook_params=HOOK_PARAMS,
    )
    invoice >> tracking


@dag(
    dag_id="vtex_test_if_already_invoiced",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"mode": "skip"},
    tags=["vtex-tests"],
)
def if_already_invoiced() -> None:
    for mode in ("skip", "fail", "resend"):
        InvoiceNotificationOperator(
            task_id=f"invoice_{mode}",
            order_id="70caf3941s6df1",
            invoice={
                "type": "Output",
                "invoiceNumber": "NF-HELD",
                "invoiceValue": "7497",
                "issuanceDate": "2024-03-01T10:00:00-03:00",
                "items": [{"id": "2001", "price": 2499, "quantity": 3}],
            },
            if_already_invoiced=mode,
            check_existing="always",
            hook_params=HOOK_PARAMS,
        )


@dag(dag_id="vtex_test_confirmation", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def confirmation() -> None:
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="70caf3941s6df1",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-CONF",
            "invoiceValue": "7497",
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        },
        wait_for_confirmation=True,
        confirmation_timeout=5,
        hook_params=HOOK_PARAMS,
    )


@dag(
    dag_id="vtex_test_order_status_sensor",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"order_id": "70caf3941s6df1"},
    tags=["vtex-tests"],
)
def order_status_sensor() -> None:
    VtexOrderStatusSensor(
        task_id="wait",
        order_id="{{ params.order_id }}",
        poke_interval=0.2,
        timeout=20,
        hook_params=HOOK_PARAMS,
    )


@dag(
    dag_id="vtex_test_order_status_sensor_reschedule",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"order_id": "70caf3941s6df1"},
    tags=["vtex-tests"],
)
def order_status_sensor_reschedule() -> None:
    VtexOrderStatusSensor(
        task_id="wait",
        order_id="{{ params.order_id }}",
        mode="reschedule",
        poke_interval=1,
        timeout=30,
        hook_params=HOOK_PARAMS,
    )


@dag(
    dag_id="vtex_test_order_status_sensor_deferrable",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"order_id": "70caf3941s6df1"},
    tags=["vtex-tests"],
)
def order_status_sensor_deferrable() -> None:
    VtexOrderStatusSensor(
        task_id="wait",
        order_id="{{ params.order_id }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=30,
        hook_params=HOOK_PARAMS,
    )


fault_matrix()
order_status_sensor_deferrable()
order_status_sensor_reschedule()
if_already_invoiced()
confirmation()
order_status_sensor()
