"""DAGs used by tests/test_payment.py: a payment notification whose ids are templated from the run's conf
and an upstream task's XCom, as an ERP-driven DAG passes them."""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.payment import VtexPaymentNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@dag(
    dag_id="vtex_test_payment_notification",
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["vtex-tests"],
)
def payment_notification() -> None:
    @task
    def erp_confirms_bank_slip(**context: object) -> dict[str, str]:
        conf = context["dag_run"].conf  # type: ignore[attr-defined]
        return {"payment_id": str(conf["payment_id"])}

    confirmed = erp_confirms_bank_slip()
    notify = VtexPaymentNotificationOperator(
        task_id="notify_payment",
        order_id="{{ dag_run.conf['order_id'] }}",
        payment_id="{{ ti.xcom_pull(task_ids='erp_confirms_bank_slip')['payment_id'] }}",
    )
    confirmed >> notify


payment_notification()
