"""DAGs used by tests/integration/test_order_day.py: the cancel and order modification operators with their
values templated from the run's conf, as a DAG triggered per order passes them."""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.cancel import VtexCancelOrderOperator
from airflow_provider_vtex.operators.modification import VtexOrderModificationOperator

try:  # Airflow 3
    from airflow.sdk import dag
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
RETRIES = {"retries": 2, "retry_delay": dt.timedelta(seconds=1)}


@dag(dag_id="vtex_test_cancel", schedule=None, start_date=START, catchup=False, default_args=RETRIES)
def cancel() -> None:
    VtexCancelOrderOperator(
        task_id="cancel",
        order_id="{{ dag_run.conf['order_id'] }}",
        reason="{{ dag_run.conf.get('reason', 'customer asked') }}",
    )


@dag(dag_id="vtex_test_modification", schedule=None, start_date=START, catchup=False, default_args=RETRIES)
def modification() -> None:
    VtexOrderModificationOperator(
        task_id="modify",
        order_id="{{ dag_run.conf['order_id'] }}",
        change={
            "reason": "{{ dag_run.conf['reason'] }}",
            "remove": {"items": [{"id": "{{ dag_run.conf['sku'] }}", "quantity": 1}]},
        },
        deferrable=True,
        poll_interval=0.2,
        timeout=60,
    )


@dag(dag_id="vtex_test_modification_preview", schedule=None, start_date=START, catchup=False)
def modification_preview() -> None:
    VtexOrderModificationOperator(
        task_id="preview",
        order_id="{{ dag_run.conf['order_id'] }}",
        change='{"reason": "preview only", "remove": {"items": [{"id": "3120", "quantity": 1}]}}',
        preview_only=True,
    )


cancel()
modification()
modification_preview()
