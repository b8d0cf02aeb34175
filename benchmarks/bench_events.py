"""From "ready for handling" in VTEX to the start-handling call: event-driven runs against a DAG that polls
the feed every minute, the same orders and the same work, in a real Airflow 3 deployment.

Each flow gets its own deployment (``tests/deployment``: API server, scheduler, DAG processor and
triggerer as separate processes, LocalExecutor, the metadata database ``VTEX_TEST_DATABASE`` names,
SQLite by default) and its own sandbox, whose feed delivers every order that becomes ready for handling:

* **event-driven**: ``example_vtex_orders_from_feed_events`` as it ships (its asset watcher reads the
  feed in the triggerer; each event starts a run; each run starts handling and invoices its orders);
* **event-driven, a user's DAG**: ``vtex_user_feed_dag`` (``tests/deployment/dags``), one task starting
  every order its triggering events carry, ``max_active_runs=4``, the trigger's defaults;
* **polling every minute**: ``vtex_feed_loop_every_minute`` (``tests/deployment/dags/
  vtex_feed_loop_dags.py``), the pull loop of ``example_vtex_erp_order_loop`` on a ``* * * * *``
  schedule: read the feed, get the orders, ERP, start handling, commit, then the invoices in one bulk
  task, the work the event-driven example does.

The sandbox places ``--orders`` orders and makes them ready for handling spread over ``--over`` seconds
(``simulate``), and measures what VTEX would see (``stats()["workflow"]``, ``timeline()``): for every order
the wait from reaching ``ready-for-handling`` to its first accepted start-handling call (median, p95,
max), and the throughput, orders started per minute from the first order ready to the last one started.
It also checks what the tests assert (each order started once, the feed drained), so a figure never comes
from a broken run. It prints; it asserts nothing.

The target for the event-driven flows is a p95 within 5 s at 300 orders a minute.

Run (about 12 minutes)::

    .venv/bin/python benchmarks/bench_events.py [--orders 300] [--over 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import Report, prepare_environment, print_header  # noqa: E402

#: How long the feed hides an item handed out and not committed (longer than a run takes here).
VISIBILITY_TIMEOUT = 60
#: Waiting longer than this for the orders to be started means the flow is broken: stop and say so.
DRAIN_TIMEOUT = 900


@dataclass(frozen=True)
class Flow:
    name: str
    dag_file: Path
    dag_id: str
    unpause: bool


def flows() -> list[Flow]:
    from tests.deployment.conftest import DAGS, EXAMPLE_DAGS

    return [
        Flow(
            "event-driven (asset watcher)",
            EXAMPLE_DAGS / "example_vtex_orders_from_feed_events.py",
            "example_vtex_orders_from_feed_events",
            unpause=False,
        ),
        Flow(
            "event-driven, a user's DAG",
            DAGS / "vtex_user_feed_dag.py",
            "vtex_user_feed_dag",
            unpause=False,
        ),
        Flow(
            "polling every minute",
            DAGS / "vtex_feed_loop_dags.py",
            "vtex_feed_loop_every_minute",
            unpause=True,
        ),
    ]


@dataclass(frozen=True)
class Figures:
    orders: int
    started_once: bool
    drained: bool
    p50: float
    p95: float
    max: float
    per_minute: float
    runs: int


def measure(flow: Flow, orders: int, over: float, folder: Path) -> Figures:
    from tests.deployment.conftest import APP_TOKEN, deployment
    from tests.deployment.store import ready_feed, wait_until_handled
    from vtex_sandbox import VtexSandbox

    sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN)
    sandbox.configure_feed(ready_feed(VISIBILITY_TIMEOUT))
    with deployment(folder, [flow.dag_file], [flow.dag_id], sandbox) as deployed:
        if flow.unpause:
            deployed.airflow.cli("dags", "unpause", flow.dag_id)
        day = sandbox.simulate(orders=orders, over_seconds=over)
        if not day.wait(over + 120):
            raise RuntimeError(f"{flow.name}: the sandbox's simulation did not end")
        outcome = wait_until_handled(sandbox, orders, DRAIN_TIMEOUT, alive=deployed.airflow.check_alive)
        timelines = sandbox.timeline()
        runs = len(deployed.airflow.dag_runs(flow.dag_id))
    ready_at = [_first(t, "ready-for-handling") for t in timelines.values()]
    started_at = [float(t["startHandling"]["firstAccepted"]["timestamp"]) for t in timelines.values()]
    span = max(started_at) - min(ready_at)
    waits = outcome.waits
    return Figures(
        orders=outcome.orders,
        started_once=outcome.called_more_than_once == {} and outcome.lost == 0,
        drained=outcome.feed_drained,
        p50=float(waits["p50"]),
        p95=float(waits["p95"]),
        max=float(waits["max"]),
        per_minute=60 * orders / span,
        runs=runs,
    )


def _first(timeline: dict[str, Any], status: str) -> float:
    return min(float(s["timestamp"]) for s in timeline["statuses"] if s["status"] == status)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--over", type=float, default=60.0, help="seconds over which the orders get ready")
    parser.add_argument(
        "--event-driven-only",
        action="store_true",
        help="measure the two event-driven flows only (the 5 s target), not the DAG polling every minute",
    )
    args = parser.parse_args(argv)
    prepare_environment()
    print_header("Event-driven runs vs a DAG polling the feed every minute (real Airflow 3, LocalExecutor)")
    print(f"{args.orders} orders made ready for handling over {args.over:.0f} s, per flow\n")
    report = Report(
        "bench_events",
        f"Ready for handling -> start handling, {args.orders} orders over {args.over:.0f} s (real Airflow 3, "
        "LocalExecutor)",
        columns=("Flow", "median", "p95", "max", "orders started a minute", "check"),
    )
    results: list[tuple[Flow, Figures]] = []
    chosen = [flow for flow in flows() if not (args.event_driven_only and flow.unpause)]
    for flow in chosen:
        with tempfile.TemporaryDirectory(prefix="vtex-bench-events-") as folder:
            started = time.monotonic()
            figures = measure(flow, args.orders, args.over, Path(folder))
            print(f"  {flow.name}: measured in {time.monotonic() - started:.0f} s")
        results.append((flow, figures))
    print()
    print(f"{'flow':<30} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'orders/min':>11} {'runs':>5}  check")
    for flow, f in results:
        check = "ok" if f.started_once and f.drained else "BROKEN (an order lost or started twice)"
        print(
            f"{flow.name:<30} {f.p50:7.1f} {f.p95:7.1f} {f.max:7.1f} {f.per_minute:11.0f} {f.runs:5d}  {check}"
        )
        report.row(
            flow.name, f"{f.p50:.1f} s", f"{f.p95:.1f} s", f"{f.max:.1f} s", f"{f.per_minute:.0f}", check
        )
    report.note("Target for the event-driven flows: p95 within 5 s.")
    if args.event_driven_only:
        report.note(
            "The DAG polling the feed every minute was not measured in this run (--event-driven-only): "
            "`make bench-deployment` measures it too."
        )
    if len(results) == 3:
        (_, event), _, (_, polling) = results
        report.note(
            f"Polling / event-driven: median wait {polling.p50 / event.p50:.1f} x, p95 wait "
            f"{polling.p95 / event.p95:.1f} x."
        )
        print(
            f"\npolling / event-driven: median wait x{polling.p50 / event.p50:.1f}, "
            f"p95 wait x{polling.p95 / event.p95:.1f}"
        )
    report.write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
