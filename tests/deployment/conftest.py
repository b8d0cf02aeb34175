"""Fixtures of the deployment tests: one Airflow deployment and one sandbox per test module.

The harness needs Airflow 3 (API server, DAG processor, the task execution API); on Airflow 2 these
modules are not collected.
"""

from __future__ import annotations

import importlib.util
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parent / "dags"
#: Distinctive, so finding it in any output means it leaked.
APP_TOKEN = "DEPLOY-apptoken-5e0b27c4d91f"

if importlib.util.find_spec("airflow.api_fastapi") is None:  # Airflow 2: no API server, no task SDK
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Deployed:
    """A running deployment and the sandbox its ``vtex_default`` connection points at."""

    airflow: Any  # tests.deployment.airflow.AirflowDeployment
    sandbox: Any  # airflow_provider_vtex.sandbox.VtexSandbox


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")  # so fixture teardown still stops the processes


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """Airflow (LocalExecutor) serving ``tests/deployment/dags`` against a sandbox that creates unknown
    orders from their first invoice. Every process is stopped afterwards, also when a test failed; a
    process left behind fails the module."""
    from airflow_provider_vtex.sandbox import VtexSandbox
    from tests.deployment.airflow import AirflowDeployment

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sandbox = VtexSandbox(auto_create_orders=True, app_token=APP_TOKEN).start()
    airflow = AirflowDeployment(
        tmp_path_factory.mktemp("airflow-deployment"),
        DAGS,
        env={"AIRFLOW_CONN_VTEX_DEFAULT": sandbox.airflow_connection()},
    )
    strays: list[Any] = []
    try:
        airflow.start()
        airflow.wait_for_dags("vtex_crash_invoice", "vtex_crash_invoice_no_retry", "vtex_crash_bulk")
        yield Deployed(airflow, sandbox)
    finally:
        strays = airflow.stop()
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    assert strays == [], f"processes outlived the deployment's components and had to be killed: {strays}"
