"""From "ready for handling" in VTEX to the start-handling call, pushed against polled: a user's DAG on an
asset fed by VTEX's order hook (the receiver in Airflow's API server) beside the same DAG on an asset fed by
the feed trigger (polled every second), the same orders, in a real Airflow 3 deployment.

Each flow gets its own deployment (``tests/deployment``: API server, scheduler, DAG processor and
triggerer as separate processes, LocalExecutor, ``VTEX_TEST_DATABASE``, SQLite by default) and its own
sandbox:

* **pushed (order hook)**: ``vtex_user_hook_dag`` (``tests/deployment/dags``): ``VtexOrderHookTrigger``,
  no feed configured; the hook registered with the provider's ``ensure_hook_config`` (the sandbox pings the
  receiver first), and the sandbox POSTs each change to the receiver as it happens;
* **polled (order feed)**: ``vtex_user_feed_dag``: ``VtexOrderFeedTrigger`` with its defaults (a read a
  second while the feed is empty), as in ``bench_events.py``.

Both DAGs are the same one task (start handling every order its triggering events carry,
``max_active_runs=4``). The sandbox makes ``--orders`` orders ready over ``--over`` seconds (300 over 60 s:
300 orders a minute) and measures, per order, the wait from ``ready-for-handling`` to the first accepted
start-handling call: p50, p95, max, and polled / pushed ratios. It checks each order was started once, so a
figure never comes from a broken run. It prints and writes docs/benchmarks/bench_push.md; it asserts
nothing. The issue's target: pushed p95 within 2 s.

**Not yet in ``make bench-deployment``**: its first run (2026-12-08, 300 orders over 60 s) stored all 300
pushed changes as asset events but made only 78 runs, and orders were still not started 4 minutes after
the last push: events stored while ``max_active_runs`` runs were active were attached to no run
(apache/airflow#56050, the stranding the feed trigger's ``quiet`` events guard against), and nothing on
a hook-only asset emits a later event. The pushed flow needs that guard before it can be measured.

Run (about 7 minutes once it completes)::

    .venv/bin/python benchmarks/bench_push.py [--orders 300] [--over 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import Report, prepare_environment, print_header  # noqa: E402

VISIBILITY_TIMEOUT = 60
DRAIN_TIMEOUT = 600
SECRET = "bench-push-hook-secret-0123456789abcdef"


@dataclass(frozen=True)
class Figures:
    orders: int
    started_once: bool
    p50: float
    p95: float
    max: float
    runs: int


def measure(pushed: bool, orders: int, over: float, folder: Path) -> Figures:
    from tests.deployment.conftest import APP_TOKEN, DAGS, deployment
    from tests.deployment.processes import wait_for
    from tests.deployment.store import StoreOutcome, ready_feed
    from vtex_sandbox import VtexSandbox

    sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN)
    env: dict[str, str] = {}
    if pushed:
        connection = json.loads(sandbox.start().airflow_connection())
        connection["extra"]["hook_secret"] = SECRET
        env["AIRFLOW_CONN_VTEX_DEFAULT"] = json.dumps(connection)
        dag_file, dag_id = DAGS / "vtex_user_hook_dag.py", "vtex_user_hook_dag"
    else:
        sandbox.configure_feed(ready_feed(VISIBILITY_TIMEOUT))
        dag_file, dag_id = DAGS / "vtex_user_feed_dag.py", "vtex_user_feed_dag"
    with deployment(folder, [dag_file], [dag_id], sandbox, env=env) as deployed:
        if pushed:
            from airflow_provider_vtex.hooks.vtex import VtexHook

            os.environ["AIRFLOW_CONN_VTEX_DEFAULT"] = deployed.airflow.env["AIRFLOW_CONN_VTEX_DEFAULT"]
            url = f"{deployed.airflow.url}/vtex/order-hook/vtex_default"
            wait_for("the hook's asset watcher", lambda: _ping_ok(url), 180)
            VtexHook("vtex_default").ensure_hook_config(url)
        day = sandbox.simulate(orders=orders, over_seconds=over)
        if not day.wait(over + 120):
            raise RuntimeError("the sandbox's simulation did not end")

        def all_started() -> StoreOutcome | None:
            outcome = StoreOutcome.of(sandbox)
            return outcome if outcome.orders == orders and outcome.started == orders else None

        outcome = wait_for(
            f"{orders} orders started",
            all_started,
            DRAIN_TIMEOUT,
            interval=1.0,
            alive=deployed.airflow.check_alive,
        )
        runs = len(deployed.airflow.dag_runs(dag_id))
    return Figures(
        orders=outcome.orders,
        started_once=outcome.called_more_than_once == {} and outcome.lost == 0,
        p50=float(outcome.waits["p50"]),
        p95=float(outcome.waits["p95"]),
        max=float(outcome.waits["max"]),
        runs=runs,
    )


def _ping_ok(url: str) -> bool | None:
    from airflow_provider_vtex.models.order_hook import SECRET_HEADER

    request = urllib.request.Request(
        url,
        data=b'{"hookConfig": "ping"}',
        method="POST",
        headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status == 200 or None
    except (urllib.error.URLError, OSError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--over", type=float, default=60.0, help="seconds over which the orders get ready")
    args = parser.parse_args(argv)
    prepare_environment()
    print_header("Pushed (order hook) vs polled (order feed): a user's DAG (real Airflow 3, LocalExecutor)")
    print(f"{args.orders} orders made ready for handling over {args.over:.0f} s, per flow\n")
    report = Report(
        "bench_push",
        f"Ready for handling -> start handling, pushed vs polled, {args.orders} orders over {args.over:.0f} s "
        "(a user's DAG, real Airflow 3, LocalExecutor)",
        columns=("Flow", "median", "p95", "max", "runs", "check"),
    )
    results: dict[str, Figures] = {}
    for name, pushed in (("pushed (order hook)", True), ("polled (order feed)", False)):
        with tempfile.TemporaryDirectory(prefix="vtex-bench-push-") as folder:
            started = time.monotonic()
            results[name] = measure(pushed, args.orders, args.over, Path(folder))
            print(f"  {name}: measured in {time.monotonic() - started:.0f} s")
    print()
    print(f"{'flow':<22} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'runs':>5}  check")
    for name, f in results.items():
        check = "ok" if f.started_once else "BROKEN (an order lost or started twice)"
        print(f"{name:<22} {f.p50:7.1f} {f.p95:7.1f} {f.max:7.1f} {f.runs:5d}  {check}")
        report.row(name, f"{f.p50:.1f} s", f"{f.p95:.1f} s", f"{f.max:.1f} s", f.runs, check)
    pushed_f, polled_f = results["pushed (order hook)"], results["polled (order feed)"]
    ratios = (
        f"Polled / pushed: median wait {polled_f.p50 / pushed_f.p50:.1f} x, p95 wait "
        f"{polled_f.p95 / pushed_f.p95:.1f} x."
    )
    print(f"\n{ratios}")
    report.note(ratios)
    report.note(
        "The issue's target: pushed p95 within 2 s. The two flows run one after the other, each in its own "
        "deployment, on a shared machine: compare them within one run."
    )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
