"""Fixtures of the integration tests: real DAG runs with ``dag.test()`` in this process, on the Airflow home
and SQLite database ``tests/conftest.py`` sets up (one per pytest-xdist worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database, made once per test session."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def run_dag(airflow_db: Path) -> Callable[..., Any]:
    """Run a DAG from the DAGs folder with ``dag.test()`` (in-process, SQLite) and return its DagRun."""
    try:  # Airflow 3.2+
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.models.dagbag import DagBag

    dags_folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]  # tests/conftest.py's; no Airflow example DAGs
    bag = DagBag(dag_folder=dags_folder)
    assert not bag.import_errors, bag.import_errors

    def run(dag_id: str, **kwargs: Any) -> Any:
        dag = bag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} not found in {dags_folder}"
        return dag.test(**kwargs)

    return run
