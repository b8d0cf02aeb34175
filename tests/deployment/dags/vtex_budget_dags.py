"""The other work of ``tests/deployment/test_distributed.py``, beside the bulk invoicing on ``vtex_default``:

* ``vtex_budget_sensors``: order-status sensors deferred to the triggerer on the same account, so the
  triggerer's calls draw on the account's budget too (they wait for four seeded orders to reach handling,
  checking every second);
* ``vtex_budget_other_account``: reads on another account (``vtex_other``), which has a budget of its own
  and must go on at its own pace while ``vtex_default`` is busy or paused by a 429.
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
#: Seeded orders ready for handling: the test moves them to handling while the invoices go out.
SENSED = ["1172452900788-01", "v502559llux-01", "1172452900791-01", "v71021948str-01"]
OTHER_ORDER = "1172452900788-01"
OTHER_READS = 300


@dag(dag_id="vtex_budget_sensors", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def vtex_budget_sensors() -> None:
    VtexOrderStatusSensor.partial(
        task_id="wait_for_handling",
        statuses=["handling"],
        deferrable=True,
        poke_interval=1,
        timeout=900,
    ).expand(order_id=SENSED)


@dag(dag_id="vtex_budget_other_account", schedule=None, start_date=START, catchup=False, tags=["vtex-tests"])
def vtex_budget_other_account() -> None:
    @task
    def read_orders() -> int:
        hook = VtexHook("vtex_other")
        for _ in range(OTHER_READS):
            hook.get_order(OTHER_ORDER)
        return OTHER_READS

    read_orders()


vtex_budget_sensors()
vtex_budget_other_account()
