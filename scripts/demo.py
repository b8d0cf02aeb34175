"""The demo: every example DAG through a real Airflow, against the local VTEX sandbox.

Run by ``make demo`` inside the project's virtual environment, and by ``scripts/smoke.sh`` with the
Python of a venv holding another Airflow version and the built wheel. It:

1. prepares an Airflow home with SQLite (``.airflow/``, git-ignored, or ``--airflow-home``) whose DAGs
   folder is ``example_dags/``;
2. starts the VTEX OMS sandbox (seeded orders) on a free local port;
3. (re)creates the ``vtex_default`` connection pointing at it, with ``airflow connections add``, and
   checks it with ``airflow connections test vtex_default`` (what the UI's Test button runs);
4. runs every example DAG with ``airflow dags test`` (logs in ``<Airflow home>/demo-logs/``);
5. stops the sandbox and prints what VTEX now holds for each order.

It exits non-zero, naming the step and its log, if the connection test or any DAG run does not succeed.
Airflow runs with the Airflow home as its working directory, so it imports the provider installed in
this Python's environment (the built wheel, in a smoke run), never the source tree by accident.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vtex_sandbox import VtexSandbox

REPO = Path(__file__).resolve().parent.parent
DEFAULT_AIRFLOW_HOME = REPO / ".airflow"
#: Every example, in name order, but the invoicing of orders in handling after the intake that starts them
#: (Airflow runs it on the intake's asset event; the demo runs each DAG once, in this order).
INVOICE_AFTER_INTAKE = ("example_vtex_orders_from_feed_events", "example_vtex_invoice_orders_in_handling")
DAGS = [
    *(
        p.stem
        for p in sorted((REPO / "example_dags").glob("example_*.py"))
        if p.stem not in INVOICE_AFTER_INTAKE
    ),
    *INVOICE_AFTER_INTAKE,
]
#: Run configuration per DAG: the bulk example invoices 10,000 orders by default; the demo asks for
#: fewer, at the example's own rate cap, to finish in seconds.
DAG_CONF = {"example_vtex_bulk_invoicing": {"invoice_count": 300, "chunk_size": 100}}
BULK_PREFIX = "bulk-"
#: Examples that need Airflow 3's event-driven scheduling (their file defines no DAG on Airflow 2). The
#: tracking DAG is scheduled on the invoice DAG's asset events; it runs after it (name order) and reads
#: the event that run recorded.
AIRFLOW_3_ONLY = {*INVOICE_AFTER_INTAKE, "example_vtex_tracking_on_invoice_events"}
#: The examples that emit and consume asset events of the ``vtex`` scheme: before Airflow 3.3,
#: ``airflow dags test`` leaves an asset no DAG processor has registered inactive, and the task fails with
#: AirflowInactiveAssetInInletOrOutletException (seen on 3.0.6); in a deployment the DAG processor
#: registers it (the intake example's outlet too, seen on 3.0.6). The demo runs them on 3.3 and later.
ASSET_EVENT_EXAMPLES = {
    "example_vtex_invoice_emits_asset_event",
    "example_vtex_tracking_on_invoice_events",
    *INVOICE_AFTER_INTAKE,  # the intake's start_handling updates the invoicing DAG's asset
}
#: The feed configuration the ERP examples expect, and the orders a store's morning brings to it.
FEED_CONFIG = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600},
}
MORNING_ORDERS = [f"DEMO-{n:03d}-01" for n in range(1, 4)]
#: Orders the seed holds in a state no example changes, and why that is expected.
SEEDED_ON_PURPOSE = {
    "canceled": "seeded canceled on purpose, to show the status sensor's failure path; expected"
}

AIRFLOW_HOME = DEFAULT_AIRFLOW_HOME  # set by main() from --airflow-home


def airflow_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
            # `airflow connections test` (like the UI's Test button) is off unless enabled.
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
    )
    return env


def airflow(*args: str, log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "airflow", *args]
    done = subprocess.run(
        command, env=airflow_env(), cwd=AIRFLOW_HOME, capture_output=True, text=True, check=False
    )
    if log is not None:
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if check and done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"demo: `airflow {' '.join(args)}` failed with exit code {done.returncode}")
    return done


def run_state(output: str) -> str:
    """The final state ``airflow dags test`` reports for the run it made."""
    found = re.findall(r"DagRun Finished: .*?state=(\w+)", output)
    return found[-1] if found else "unknown"


def shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (shorter), else absolute."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def print_summary(summary: dict[str, Any], seeded: dict[str, Any]) -> None:
    """What VTEX holds per order; ``seeded`` is the sandbox's summary before any DAG ran."""
    print("\nWhat VTEX (the sandbox) now holds:\n")
    bulk = {order_id: order for order_id, order in summary.items() if order_id.startswith(BULK_PREFIX)}
    for order_id, order in summary.items():
        if order_id in bulk:
            continue
        note = ""
        if order_id in seeded and seeded[order_id]["status"] == order["status"] and not order["invoices"]:
            note = "  (" + SEEDED_ON_PURPOSE.get(order["status"], "as seeded: no example DAG uses it") + ")"
        print(f"  order {order_id:<18} {order['status']:<19} value {money(order['value']):>9}{note}")
        for invoice in order["invoices"]:
            receipt = invoice["receipt"] or "-"
            print(
                f"      invoice {invoice['invoiceNumber']:<11} {invoice['type']:<6} {money(invoice['invoiceValue']):>9}"
                f"  receipt {receipt}  ({len(invoice['receipts'])} receipt(s) issued)"
            )
            tracking = invoice["tracking"]
            if tracking["trackingNumber"]:
                print(f"      tracking {tracking['trackingNumber']} via {tracking['courier'] or '?'}")
            delivery = invoice["delivery"]
            if delivery:
                state = f"delivered {delivery['deliveredDate']}" if delivery["isDelivered"] else "in transit"
                print(f"      delivery {state}, {len(delivery['events'])} tracking event(s)")
    if bulk:
        invoiced = sum(1 for order in bulk.values() if order["status"] == "invoiced")
        invoices = sum(len(order["invoices"]) for order in bulk.values())
        print(
            f"  {len(bulk)} bulk orders ({BULK_PREFIX}...): {invoiced} invoiced, {invoices} invoices held "
            f"(one per order: {invoices == len(bulk)})"
        )
    print()


def _airflow_before(major: int, minor: int) -> bool:
    """Whether the installed Airflow is older than ``major.minor``."""
    from airflow import __version__

    found = tuple(int(part) for part in __version__.split(".")[:2])
    return found < (major, minor)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--airflow-home",
        type=Path,
        default=DEFAULT_AIRFLOW_HOME,
        help="Airflow home (SQLite database, logs); default .airflow/ in the repository",
    )
    return parser.parse_args(argv)


def test_connection(log: Path) -> str | None:
    """Run ``airflow connections test vtex_default``; None if it succeeded, else what went wrong."""
    done = airflow("connections", "test", "vtex_default", log=log, check=False)
    output = done.stdout + done.stderr
    if done.returncode == 0 and "Connection success!" in output:
        return None
    return f"`airflow connections test vtex_default` failed (exit code {done.returncode}; see {log})"


def main(argv: list[str] | None = None) -> int:
    global AIRFLOW_HOME
    AIRFLOW_HOME = parse_args(argv).airflow_home.resolve()
    logs = AIRFLOW_HOME / "demo-logs"
    logs.mkdir(parents=True, exist_ok=True)
    import airflow_provider_vtex

    print(
        f"demo: Airflow home {AIRFLOW_HOME} (SQLite), DAGs from example_dags/, "
        f"provider {airflow_provider_vtex.__version__} from {Path(airflow_provider_vtex.__file__).parent}"
    )
    airflow("db", "migrate", log=logs / "db-migrate.log")
    failures: list[str] = []
    # auto_create_orders: the bulk example invoices orders the sandbox does not seed.
    with VtexSandbox(auto_create_orders=True) as sandbox:
        seeded = sandbox.summary()
        print(f"demo: VTEX sandbox serving {sandbox.url} with {len(seeded)} seeded orders")
        airflow("connections", "delete", "vtex_default", check=False)
        airflow("connections", "add", "vtex_default", "--conn-json", sandbox.airflow_connection())
        # A store's morning: the order feed is configured, customers pay three orders, they become ready
        # for handling, and the feed holds their events for the ERP example to read.
        sandbox.configure_feed(FEED_CONFIG)
        for order_id in MORNING_ORDERS:
            sandbox.place_order(order_id, status="payment-approved")
            sandbox.move_order(order_id, "ready-for-handling")
        print(f"demo: {len(MORNING_ORDERS)} orders placed and paid this morning: {', '.join(MORNING_ORDERS)}")
        problem = test_connection(logs / "connections-test.log")
        print(f"demo: airflow connections test vtex_default: {'success' if problem is None else 'FAILED'}")
        if problem is not None:
            failures.append(problem)
        from airflow_provider_vtex.compat import AssetWatcher

        for dag_id in DAGS:
            if dag_id in ASSET_EVENT_EXAMPLES and _airflow_before(3, 3):
                print(
                    f"demo: {dag_id:<36} skipped: `airflow dags test` needs Airflow 3.3+ for its asset events"
                )
                continue
            if dag_id in AIRFLOW_3_ONLY and AssetWatcher is None:
                print(f"demo: {dag_id:<36} skipped: it needs Airflow 3's event-driven scheduling")
                continue
            started = time.monotonic()
            log = logs / f"{dag_id}.log"
            conf = ["--conf", json.dumps(DAG_CONF[dag_id])] if dag_id in DAG_CONF else []
            done = airflow("dags", "test", dag_id, *conf, log=log, check=False)
            state = (
                run_state(done.stdout + done.stderr)
                if done.returncode == 0
                else f"exit code {done.returncode}"
            )
            print(f"demo: {dag_id:<36} {state:<8} {time.monotonic() - started:5.1f} s   log: {shown(log)}")
            if state != "success":
                failures.append(f"{dag_id} ({state}; see {log})")
        summary = sandbox.summary()
        requests_served = len(sandbox.requests)
    print(f"demo: sandbox stopped after serving {requests_served} VTEX API requests")
    print_summary(summary, seeded)
    if failures:
        print("demo FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    print(f"demo: all {len(DAGS)} example DAGs succeeded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
