"""The account-wide request budget across Celery workers (``make test-distributed``).

``example_vtex_bulk_invoicing`` invoices 4,000 orders in chunks of 500, four chunks at once, each chunk
capped at 25 requests/s, on two Celery workers (CeleryExecutor, Redis broker) of a real Airflow 3
deployment, against the sandbox. What VTEX sees must stay within N chunks x cap: the busiest one-second
window at the sandbox holds at most 4 x 25 = 100 requests, and no invoice arrives twice.

Needs ``apache-airflow-providers-celery`` and Debian's ``redis-server``: ``make test-distributed`` installs
both (the provider into its own virtual environment, ``.venv-celery``) and sets ``VTEX_DISTRIBUTED_REQUIRED=1``,
so there a missing piece fails the run; elsewhere (``make test``) the module is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("airflow.providers.celery") is None:
    if os.environ.get("VTEX_DISTRIBUTED_REQUIRED") == "1":
        raise RuntimeError("VTEX_DISTRIBUTED_REQUIRED=1 but apache-airflow-providers-celery is not installed")
    pytest.skip("needs the Celery provider: run make test-distributed", allow_module_level=True)

from tests.deployment.airflow import AirflowDeployment
from tests.deployment.redis import RedisServer
from vtex_sandbox import VtexSandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "example_vtex_bulk_invoicing"
INVOICES, CHUNK, CHUNKS_AT_ONCE, CAP = 4000, 500, 4, 25
WORKERS = ("celery-worker-1", "celery-worker-2")


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")


@pytest.fixture
def celery_deployment(tmp_path: Path) -> Iterator[tuple[AirflowDeployment, VtexSandbox]]:
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").symlink_to(REPO_ROOT / "example_dags" / f"{DAG_ID}.py")
    redis = RedisServer(tmp_path)
    sandbox = VtexSandbox(auto_create_orders=True, max_log=100_000).start()
    airflow = AirflowDeployment(
        tmp_path / "home",
        dags,
        executor="CeleryExecutor",
        env={
            "AIRFLOW_CONN_VTEX_DEFAULT": sandbox.airflow_connection(),
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{tmp_path / 'celery-results.db'}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        },
    )
    strays: list[Any] = []
    try:
        redis.start()
        airflow.start()
        for name in WORKERS:
            airflow.add_component(
                name,
                "celery",
                "worker",
                "--concurrency",
                "2",
                "--celery-hostname",
                f"{name}@%h",
                "--skip-serve-logs",
            )
        airflow.wait_for_dags(DAG_ID)
        yield airflow, sandbox
    finally:
        strays = airflow.stop()
        redis.stop()
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    assert strays == [], f"processes outlived the deployment and had to be killed: {strays}"


def test_chunks_on_two_celery_workers_stay_within_chunks_times_cap(
    celery_deployment: tuple[AirflowDeployment, VtexSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    airflow, sandbox = celery_deployment
    started = time.monotonic()
    run_id = airflow.trigger(DAG_ID, {"invoice_count": INVOICES, "chunk_size": CHUNK})
    state = airflow.wait_for_run(DAG_ID, run_id, timeout=600)
    duration = time.monotonic() - started
    stats = sandbox.stats()
    chunks = [ti for ti in airflow.task_instances(DAG_ID, run_id) if ti["task_id"] == "notify_invoices"]
    ran_on = {name for name in WORKERS if "notify_invoices" in airflow.components[name].log_tail(10**7)}
    held = stats["orders"]
    with capsys.disabled():
        print(
            f"\n{INVOICES:,} invoices, {len(chunks)} chunks of {CHUNK} ({CHUNKS_AT_ONCE} at once x {CAP}/s) on "
            f"{len(WORKERS)} Celery workers: run {state} in {duration:.0f} s (trigger to end); busiest second at "
            f"the sandbox {stats['busiestSecond']['count']} requests (bound {CHUNKS_AT_ONCE * CAP}); "
            f"{stats['requests']:,} requests; duplicates {sum(o['duplicates'] for o in held.values())}"
        )
    assert state == "success"
    assert [ti["state"] for ti in chunks] == ["success"] * (INVOICES // CHUNK)
    assert ran_on == set(WORKERS), f"chunks ran only on {ran_on}"
    assert len(held) == INVOICES
    assert all(o["invoices"] == 1 and o["duplicates"] == 0 for o in held.values())
    assert stats["busiestSecond"]["count"] <= CHUNKS_AT_ONCE * CAP
