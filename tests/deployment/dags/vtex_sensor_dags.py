"""Orders waited on at once by ``VtexOrderStatusSensor``, one DAG per way of waiting: deferred in the
triggerer, rescheduled between checks, or poking in a worker slot (``tests/deployment/
test_deferrable_sensors.py``: 50 orders on 2 worker slots; ``benchmarks/bench_sensors.py``: 200 on 8).

Each run waits on the orders its conf names (``{"order_ids": [...]}``), one mapped sensor per order, until
the order's payment is approved. Every way checks every 10 s, so they differ only in where they wait.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
CHECK_EVERY_SECONDS = 10
#: Long enough for 200 sensors to be started and approved on a busy 2-core machine.
TIMEOUT_SECONDS = 1800
#: dag id -> the sensor's way of waiting
WAYS: dict[str, dict[str, Any]] = {
    "vtex_sensors_deferrable": {"deferrable": True},
    "vtex_sensors_reschedule": {"deferrable": False, "mode": "reschedule"},
    "vtex_sensors_poke": {"deferrable": False, "mode": "poke"},
}


def sensors(dag_id: str, way: dict[str, Any]) -> None:
    @dag(dag_id=dag_id, schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
    def wait_for_payments() -> None:
        @task
        def orders(params: dict[str, Any] | None = None) -> list[str]:
            return list((params or {}).get("order_ids") or [])

        VtexOrderStatusSensor.partial(
            task_id="wait_for_payment",
            statuses=["payment-approved"],
            poke_interval=CHECK_EVERY_SECONDS,
            timeout=TIMEOUT_SECONDS,
            **way,
        ).expand(order_id=orders())

    wait_for_payments()


for dag_id, way in WAYS.items():
    sensors(dag_id, way)
