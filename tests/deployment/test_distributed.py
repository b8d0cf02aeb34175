"""The account's request budget across Celery workers (``make test-distributed``).

``example_vtex_bulk_invoicing`` invoices 4,000 orders in chunks of 500, four chunks at once, on two Celery
workers (CeleryExecutor, Redis broker) of a real Airflow 3 deployment, against the sandbox. The budget is
set once, on the connection (``max_requests_per_second`` 100), and shared by every chunk on both workers
through ``[vtex] budget_store``, here the deployment's Redis (the store for several machines); no chunk
has a cap of its own. The sandbox account answers 429 above 100 requests a second, as VTEX does. What VTEX
sees must stay within the budget: the busiest one-second window at the sandbox holds at most 100 requests.
One 429 injected mid-run must pause every worker for its ``Retry-After``, and no invoice arrives twice.

Meanwhile (``tests/deployment/dags/vtex_budget_dags.py``) four order-status sensors deferred to the
triggerer poll the same account every second, drawing on the same budget, and another account of the same
sandbox (its own keys and a budget of 20 a second) is read 300 times: at its own pace, through the first
account's pause.

Needs ``apache-airflow-providers-celery`` and Debian's ``redis-server``: ``make test-distributed`` installs
both (the provider into its own virtual environment, ``.venv-celery``) and sets ``VTEX_DISTRIBUTED_REQUIRED=1``,
so there a missing piece fails the run; elsewhere (``make test``) the module is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
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
SENSED = ["1172452900788-01", "v502559llux-01", "1172452900791-01", "v71021948str-01"]
DAG_ID = "example_vtex_bulk_invoicing"
INVOICES, CHUNK, CHUNKS_AT_ONCE, BUDGET = 4000, 500, 4, 100
#: The injected 429's Retry-After: every worker must send nothing to the account for this long.
PAUSE = 3
GRACE = 0.5
OTHER_BUDGET = 20
OTHER_READS = 300  # vtex_budget_dags.OTHER_READS: 15 s at its budget
SIDE_DAGS = ("vtex_budget_sensors", "vtex_budget_other_account")
WORKERS = ("celery-worker-1", "celery-worker-2")


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"terminated by signal {signum}")


@pytest.fixture
def celery_deployment(tmp_path: Path) -> Iterator[tuple[AirflowDeployment, VtexSandbox]]:
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").symlink_to(REPO_ROOT / "example_dags" / f"{DAG_ID}.py")
    (dags / "vtex_budget_dags.py").symlink_to(
        REPO_ROOT / "tests" / "deployment" / "dags" / "vtex_budget_dags.py"
    )
    redis = RedisServer(tmp_path)
    sandbox = VtexSandbox(auto_create_orders=True, max_log=100_000, max_requests_per_second=BUDGET).start()
    connection = json.loads(sandbox.airflow_connection())
    connection["extra"]["max_requests_per_second"] = BUDGET
    other = sandbox.add_account(
        "other",
        app_key="other-key",
        app_token="other-token",
        seed_default=True,
        max_requests_per_second=OTHER_BUDGET,
    )
    other_connection = json.loads(other.airflow_connection())
    other_connection["extra"]["max_requests_per_second"] = OTHER_BUDGET
    airflow = AirflowDeployment(
        tmp_path / "home",
        dags,
        executor="CeleryExecutor",
        env={
            "AIRFLOW_CONN_VTEX_DEFAULT": json.dumps(connection),
            "AIRFLOW_CONN_VTEX_OTHER": json.dumps(other_connection),
            # The account budgets in Redis, as for workers on several machines (a db of its own).
            "AIRFLOW__VTEX__BUDGET_STORE": redis.url.rsplit("/", 1)[0] + "/1",
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{tmp_path / 'celery-results.db'}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "3",
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
                "3",  # 4 chunks at once leave 2 slots to the sensors' first checks and the other account
                "--celery-hostname",
                f"{name}@%h",
                "--skip-serve-logs",
            )
        airflow.wait_for_dags(DAG_ID, *SIDE_DAGS)
        yield airflow, sandbox
    finally:
        strays = airflow.stop()
        redis.stop()
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    assert strays == [], f"processes outlived the deployment and had to be killed: {strays}"


def test_chunks_on_two_celery_workers_share_the_account_budget(
    celery_deployment: tuple[AirflowDeployment, VtexSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    airflow, sandbox = celery_deployment
    started = time.monotonic()
    run_id = airflow.trigger(DAG_ID, {"invoice_count": INVOICES, "chunk_size": CHUNK})
    sensors_run = airflow.trigger("vtex_budget_sensors")
    # The other account's reads start once the invoices flow, and the 429 falls while they go on.
    _wait_until(lambda: sandbox.post_count() >= INVOICES // 10)
    other_run = airflow.trigger("vtex_budget_other_account")
    throttle = threading.Thread(target=_throttle_once_mid_run, args=(sandbox,), daemon=True)
    throttle.start()
    state = airflow.wait_for_run(DAG_ID, run_id, timeout=600)
    duration = time.monotonic() - started
    throttle.join(timeout=5)
    for order_id in SENSED:  # the sensors' orders reach handling: their triggers fire
        sandbox.set_status(order_id, "handling")
    sensors_state = airflow.wait_for_run("vtex_budget_sensors", sensors_run, timeout=300)
    other_state = airflow.wait_for_run("vtex_budget_other_account", other_run, timeout=300)
    other = sandbox.accounts["other"]
    other_entries = other.log.entries()
    stats = sandbox.stats()
    chunks = [ti for ti in airflow.task_instances(DAG_ID, run_id) if ti["task_id"] == "notify_invoices"]
    ran_on = {name for name in WORKERS if "notify_invoices" in airflow.components[name].log_tail(10**7)}
    held = stats["orders"]
    entries = sandbox.log.entries()
    throttled = [entry["timestamp"] for entry in entries if entry["status"] == 429]
    with capsys.disabled():
        print(
            f"\n{INVOICES:,} invoices, {len(chunks)} chunks of {CHUNK} ({CHUNKS_AT_ONCE} at once) on "
            f"{len(WORKERS)} Celery workers, account budget {BUDGET}/s in Redis: run {state} in {duration:.0f} s "
            f"(trigger to end); busiest second at the sandbox {stats['busiestSecond']['count']} requests "
            f"(budget {BUDGET}); {stats['requests']:,} requests, {len(throttled)} answered 429; duplicates "
            f"{sum(o['duplicates'] for o in held.values())}; other account: {len(other_entries)} reads in "
            f"{other_entries[-1]['timestamp'] - other_entries[0]['timestamp'] if other_entries else 0:.0f} s, "
            f"busiest second {other.stats()['busiestSecond']['count']} (budget {OTHER_BUDGET}), "
            f"{sum(1 for e in other_entries if GRACE < e['timestamp'] - throttled[0] < PAUSE - 0.1) if throttled else 0} "
            f"during the first account's pause"
        )
    assert state == "success"
    assert [ti["state"] for ti in chunks] == ["success"] * (INVOICES // CHUNK)
    assert ran_on == set(WORKERS), f"chunks ran only on {ran_on}"
    assert len(held) == INVOICES
    assert all(o["invoices"] == 1 and o["duplicates"] == 0 for o in held.values())
    assert stats["busiestSecond"]["count"] <= BUDGET
    # Only the injected 429: the budget kept every worker under the account's limit.
    assert len(throttled) == 1, f"{len(throttled)} requests answered 429"
    assert stats["budget"]["refused"] == 0
    # After it, no worker sent anything to the account until the pause was over (beyond the requests
    # already on their way when the 429 was answered: half a second of grace).
    during = [
        t - throttled[0]
        for t in (entry["timestamp"] for entry in entries)
        if GRACE < t - throttled[0] < PAUSE - 0.1
    ]
    assert during == [], (
        f"{len(during)} requests during the pause, the first {min(during or [0]):.2f} s after the 429"
    )
    assert any(entry["timestamp"] >= throttled[0] + PAUSE - 0.1 for entry in entries), "nothing sent after it"
    # The triggerer's calls drew on the same budget (counted in the busiest second above).
    assert sensors_state == "success"
    polls = [e for e in entries if e["route"] == "get_order" and e["orderId"] in SENSED]
    assert len(polls) > 2 * len(SENSED), f"the deferred sensors polled {len(polls)} times"
    # The other account: every read, within its own budget, and going on during the first one's pause.
    assert other_state == "success"
    assert len(other_entries) == OTHER_READS
    assert {entry["status"] for entry in other_entries} == {200}
    assert other.stats()["busiestSecond"]["count"] <= OTHER_BUDGET
    during_pause = [e for e in other_entries if GRACE < e["timestamp"] - throttled[0] < PAUSE - 0.1]
    assert len(during_pause) >= OTHER_BUDGET, "the other account stopped while the first one was paused"


def _wait_until(condition: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the deployment did not get there in time")
        time.sleep(0.1)


def _throttle_once_mid_run(sandbox: VtexSandbox) -> None:
    """Once the other account is being read, VTEX answers one invoice with 429 and Retry-After, so the
    pause falls while the other account's reads go on."""
    other = sandbox.accounts["other"]
    _wait_until(lambda: len(other.log.entries()) >= OTHER_READS // 5)
    sandbox.add_fault("invoice", "rate_limit", count=1, retry_after=PAUSE)
