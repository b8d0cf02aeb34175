"""Fixtures of the deployment tests: a real Airflow deployment serving chosen DAG files, against a sandbox.

The harness needs Airflow 3 (API server, DAG processor, the task execution API); on Airflow 2 these
modules are not collected.
"""

from __future__ import annotations

import contextlib
import importlib.util
import signal
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parent / "dags"
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
#: The examples' stand-in ERP, served beside every deployment's DAG files (the examples import it).
ERP_STAND_IN = EXAMPLE_DAGS / "erp_stand_in.py"
ERP_DATABASE_ENV_VAR = "VTEX_EXAMPLE_ERP_DATABASE"
#: Distinctive, so finding it in any output means it leaked.
APP_TOKEN = "DEPLOY-apptoken-5e0b27c4d91f"

if importlib.util.find_spec("airflow.api_fastapi") is None:  # Airflow 2: no API server, no task SDK
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Deployed:
    """A running deployment and the sandbox its ``vtex_default`` connection points at."""

    airflow: Any  # tests.deployment.airflow.AirflowDeployment
    sandbox: Any  # vtex_sandbox.VtexSandbox
    folder: Path

    def erp(self, order_ids: Collection[str] | None = None) -> dict[str, Any]:
        """What reached the examples' stand-in ERP in this deployment (of ``order_ids`` only, if given)."""
        return erp_counts(self.folder, order_ids)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")  # so fixture teardown still stops the processes


def erp_database(folder: Path) -> Path:
    """The stand-in ERP's database of the deployment in ``folder``."""
    return folder / "erp.sqlite3"


def erp_counts(folder: Path, order_ids: Collection[str] | None = None) -> dict[str, Any]:
    """What reached the stand-in ERP of the deployment in ``folder`` (``erp_stand_in.counts``); with
    ``order_ids``, the same figures for those orders only (one backlog of several in a deployment)."""
    if order_ids is not None:
        return _erp_counts_of(folder, frozenset(order_ids))
    spec = importlib.util.spec_from_file_location("erp_stand_in", ERP_STAND_IN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ERP_DATABASE_ENV_VAR, str(erp_database(folder)))
        counts: dict[str, Any] = module.counts()
    return counts


def _erp_counts_of(folder: Path, order_ids: frozenset[str]) -> dict[str, Any]:
    """``erp_stand_in.counts()`` restricted to ``order_ids``, read from its two tables: ``sales_orders``
    (one row per order, keyed by VTEX's id) and ``hand_offs`` (one row per hand-over, ``created`` 1 when
    it created the sales order)."""
    with contextlib.closing(sqlite3.connect(erp_database(folder), timeout=60)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        made = {"sales_orders", "hand_offs"} <= tables  # by the first hand-over
        sales = [r[0] for r in db.execute("SELECT vtex_order_id FROM sales_orders")] if made else []
        hand_offs = list(db.execute("SELECT vtex_order_id, created FROM hand_offs")) if made else []
    created = Counter(oid for oid, was_created in hand_offs if was_created and oid in order_ids)
    handed = Counter(oid for oid, _ in hand_offs if oid in order_ids)
    return {
        "sales_orders": sum(1 for oid in sales if oid in order_ids),
        "hand_offs": sum(handed.values()),
        "created_twice": sum(1 for n in created.values() if n > 1),
        "handed_over_again": sum(1 for n in handed.values() if n > 1),
    }


@contextlib.contextmanager
def deployment(
    folder: Path,
    dag_files: Sequence[Path],
    dag_ids: Sequence[str],
    sandbox: Any,
    env: dict[str, str] | None = None,
) -> Iterator[Deployed]:
    """Airflow (LocalExecutor) serving exactly ``dag_files`` (linked into a folder of their own, so one
    test's DAGs -- an asset watcher polling a feed, say -- never run in another test's deployment) against
    ``sandbox`` (started here). Every process is stopped afterwards, also when the test failed; a process
    left behind fails the test."""
    from tests.deployment.airflow import AirflowDeployment

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    dags = folder / "dags"
    dags.mkdir(parents=True)
    for dag_file in [*dag_files, ERP_STAND_IN]:
        (dags / dag_file.name).symlink_to(dag_file)
    sandbox.start()
    strays: list[Any] = []
    try:
        airflow = AirflowDeployment(
            folder / "home",
            dags,
            env={
                "AIRFLOW_CONN_VTEX_DEFAULT": sandbox.airflow_connection(),
                ERP_DATABASE_ENV_VAR: str(erp_database(folder)),
                **(env or {}),
            },
        )
        try:
            airflow.start()
            airflow.wait_for_dags(*dag_ids)
            yield Deployed(airflow, sandbox, folder)
        finally:
            strays = airflow.stop()
    finally:
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    assert strays == [], f"processes outlived the deployment's components and had to be killed: {strays}"


@pytest.fixture(scope="session", autouse=True)
def migrated_templates() -> Iterator[None]:
    """The session's template databases (``tests.deployment.airflow.migrated_template``: each deployment's
    database is a copy) and the PostgreSQL server they are on, if any, removed at the session's end; a
    PostgreSQL process outliving its shutdown fails here. A SIGTERM meanwhile becomes ``SystemExit``, so
    that this still runs."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        from tests.deployment.airflow import remove_templates

        signal.signal(signal.SIGTERM, previous)
        remove_templates()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The crash DAGs (``dags/vtex_crash_dags.py``) against a sandbox that creates unknown orders from
    their first invoice."""
    from vtex_sandbox import VtexSandbox

    with deployment(
        tmp_path_factory.mktemp("airflow-deployment"),
        [DAGS / "vtex_crash_dags.py"],
        ["vtex_crash_invoice", "vtex_crash_invoice_no_retry", "vtex_crash_bulk"],
        VtexSandbox(auto_create_orders=True, app_token=APP_TOKEN),
    ) as deployed:
        yield deployed
