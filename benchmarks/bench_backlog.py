"""A sale day's backlog: how fast 5,000 and 20,000 orders waiting at once in VTEX's feed are drained,
event-driven against the polling loop, next to the bound the account's request budget sets.

Each flow and size gets its own deployment (``tests/deployment``: API server, scheduler, DAG processor
and triggerer as separate processes, LocalExecutor, the metadata database ``VTEX_TEST_DATABASE`` names,
SQLite by default) and its own sandbox, holding the backlog before Airflow starts reading:

* **event-driven**: ``example_vtex_orders_from_feed_events`` as it ships (the asset watcher reads the feed
  in the triggerer, at most 200 items unsettled; the runs hand the orders to the stand-in ERP, start
  handling them and invoice them);
* **polling loop**: ``vtex_feed_loop_backlog`` (``tests/deployment/dags/vtex_feed_loop_dags.py``), the
  pull loop of ``example_vtex_erp_order_loop`` reading up to 1,000 items a run in VTEX's lots of 10, each
  run started as soon as the previous one ended (no invoices: the loop's invoicing comes after the commit).

Printed per flow and size: the drain time (backlog placed -> last order started), orders started per
minute, and whether each order was started once and created in the ERP once with the feed drained (a
figure from a broken run is marked so). The budget line: starting an order costs two requests (a read,
then the call), so with ``B`` requests a second for start handling a backlog drains at most at ``30 * B``
orders a minute, whatever Airflow does; the measured rate is the bound Airflow and this machine set.

With ``--budget B`` the account has a request budget of ``B`` a second: the connection's
``max_requests_per_second`` (shared by every task and the triggerer through the default local store) and
the sandbox's own limit, above which it answers 429 as VTEX does. Each row then also shows the bound the
budget sets for that flow, ``60 * B / (requests per order)`` orders a minute, with the requests per
order counted at the sandbox (everything the flow sent: reads, start handling, feed reads and commits,
invoices), and the share of that bound the drain reached; a drain at the budget reaches 85 % or more.

Run (about 25 minutes with the default sizes; ``--sizes 5000`` for about 6)::

    .venv/bin/python benchmarks/bench_backlog.py [--sizes 5000,20000] [--budget 50]

With a budget the table goes to docs/benchmarks/bench_backlog_budget.md (without, bench_backlog.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import Report, prepare_environment, print_header  # noqa: E402

VISIBILITY_TIMEOUT = 300
#: Per 1,000 orders: waiting longer means the flow is broken; stop and say so.
DRAIN_SECONDS_PER_1000 = 300
BUDGETS = (10, 50)


@dataclass(frozen=True)
class Flow:
    name: str
    dag_file: str
    dag_id: str
    polling: bool


FLOWS = (
    Flow(
        "event-driven",
        "example_vtex_orders_from_feed_events.py",
        "example_vtex_orders_from_feed_events",
        False,
    ),
    Flow("polling loop", "vtex_feed_loop_dags.py", "vtex_feed_loop_backlog", True),
)


@dataclass(frozen=True)
class Figures:
    seconds: float
    per_minute: float
    once: bool
    runs: int
    #: Requests the flow sent to VTEX, and those VTEX (the sandbox) refused with 429 over the budget.
    requests: int = 0
    refused: int = 0

    def bound(self, orders: int, budget: float) -> float:
        """Orders a minute the budget allows this flow, at the requests per order it needed."""
        return 60 * budget * orders / max(self.requests, 1)


def measure(flow: Flow, orders: int, folder: Path, budget: float | None = None) -> Figures:
    from tests.deployment.conftest import APP_TOKEN, DAGS, EXAMPLE_DAGS, deployment
    from tests.deployment.store import StoreOutcome, place_backlog, ready_feed, wait_until_handled
    from vtex_sandbox import VtexSandbox

    sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN, max_requests_per_second=budget)
    sandbox.configure_feed(ready_feed(VISIBILITY_TIMEOUT))
    dag_file = (DAGS if flow.polling else EXAMPLE_DAGS) / flow.dag_file
    timeout = DRAIN_SECONDS_PER_1000 * orders / 1000
    if budget is not None:  # a budget bounds the drain: allow up to 10 requests an order at half of it
        timeout = max(timeout, 2 * 10 * orders / budget)
    env = {}
    if budget is not None:  # the account's budget, on the connection (its URL is known once started)
        sandbox.start()
        connection = json.loads(sandbox.airflow_connection())
        connection["extra"]["max_requests_per_second"] = budget
        env["AIRFLOW_CONN_VTEX_DEFAULT"] = json.dumps(connection)
    with deployment(folder, [dag_file], [flow.dag_id], sandbox, env=env) as deployed:
        airflow = deployed.airflow
        place_backlog(sandbox, orders)
        started = time.monotonic()
        if flow.polling:
            while not StoreOutcome.of(sandbox).complete(orders):
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"{flow.name}: {StoreOutcome.of(sandbox).line()}")
                airflow.wait_for_run(flow.dag_id, airflow.trigger(flow.dag_id), timeout=timeout)
            outcome = StoreOutcome.of(sandbox)
        else:
            outcome = wait_until_handled(sandbox, orders, timeout, alive=airflow.check_alive)
        seconds = time.monotonic() - started
        stats = sandbox.stats()
        erp = deployed.erp()
        runs = len(airflow.dag_runs(flow.dag_id))
    once = (
        outcome.lost == 0
        and outcome.called_more_than_once == {}
        and outcome.feed_drained
        and erp["sales_orders"] == orders
        and erp["created_twice"] == 0
    )
    refused = stats["budget"]["refused"] if stats["budget"] else 0
    return Figures(
        seconds=seconds,
        per_minute=60 * orders / seconds,
        once=once,
        runs=runs,
        requests=stats["requests"],
        refused=refused,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000,20000", help="backlog sizes, comma-separated")
    parser.add_argument(
        "--budget", type=float, default=None, help="the account's request budget, requests a second"
    )
    args = parser.parse_args(argv)
    budget: float | None = args.budget
    sizes = [int(size) for size in args.sizes.split(",")]
    prepare_environment()
    print_header("A backlog waiting in VTEX's feed: event-driven vs the polling loop (real Airflow 3)")
    # Made before the runs, so the table says when they started and under which load.
    report = Report(
        "bench_backlog" if budget is None else "bench_backlog_budget",
        "A backlog waiting in VTEX's feed, drained (real Airflow 3, LocalExecutor)",
        columns=(
            ("orders", "flow", "drained in", "orders a minute", "runs", "check")
            if budget is None
            else (
                "orders",
                "flow",
                "drained in",
                "orders a minute",
                "budget allows",
                "of the bound",
                "429s",
                "runs",
                "check",
            )
        ),
    )
    rows: list[tuple[int, Flow, Figures]] = []
    for orders in sizes:
        for flow in FLOWS:
            with tempfile.TemporaryDirectory(prefix="vtex-bench-backlog-") as folder:
                figures = measure(flow, orders, Path(folder), budget)
            print(f"  {orders} orders, {flow.name}: drained in {figures.seconds:.0f} s")
            rows.append((orders, flow, figures))
    print()
    print(f"{'orders':>7} {'flow':<14} {'drain s':>8} {'orders/min':>11} {'runs':>5}  check")
    for orders, flow, f in rows:
        check = "ok" if f.once else "BROKEN (an order lost, started twice or created twice)"
        print(f"{orders:>7} {flow.name:<14} {f.seconds:8.0f} {f.per_minute:11.0f} {f.runs:5d}  {check}")
    for orders, flow, f in rows:
        check = "ok" if f.once else "BROKEN (an order lost, started twice or created twice)"
        cells: list[object] = [f"{orders:,}", flow.name, f"{f.seconds:.0f} s", f"{f.per_minute:,.0f}"]
        if budget is not None:
            bound = f.bound(orders, budget)
            cells += [f"{bound:,.0f}", f"{f.per_minute / bound:.0%}", f.refused]
            print(
                f"{orders:>7} {flow.name:<14} budget {budget:g}/s allows {bound:,.0f} orders/min "
                f"({f.requests / orders:.1f} requests an order): drained at {f.per_minute / bound:.0%} of it, "
                f"{f.refused} answered 429"
            )
        report.row(*cells, f.runs, check)
    database = os.environ.get("VTEX_TEST_DATABASE") or "sqlite"
    report.note(f"Metadata database: {database}. Each figure is from backlog placed to last order started.")
    if budget is not None:
        report.note(
            f"The account's budget: {budget:g} requests a second on the connection (every task and the "
            "triggerer share it), the sandbox answering 429 above it. 'budget allows' is 60 x budget / the "
            "requests per order the flow sent (counted at the sandbox)."
        )
    else:
        for example in BUDGETS:
            line = (
                f"budget {example} requests/s for start handling: at most {30 * example} orders a minute "
                f"(two requests an order)"
            )
            report.note(f"The bound a request budget sets: {line}.")
    report.write()
    print()
    for orders in sizes:
        event = next(f for n, flow, f in rows if n == orders and not flow.polling)
        polling = next(f for n, flow, f in rows if n == orders and flow.polling)
        print(
            f"{orders} orders: event-driven / polling drain rate x{event.per_minute / polling.per_minute:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
