"""The demo: every example DAG through a real Airflow, against the local VTEX sandbox.

Run by ``make demo`` inside the project's virtual environment, and by ``scripts/smoke.sh`` with the
Python of a venv holding another Airflow version and the built wheel. In one Python process, it:

1. prepares an Airflow home with SQLite (``.airflow/``, git-ignored, or ``--airflow-home``) whose DAGs
   folder is ``example_dags/``, and migrates its database (what ``airflow db migrate`` runs);
2. starts the VTEX OMS sandbox (seeded orders) on a free local port;
3. (re)creates the ``vtex_default`` connection pointing at it in Airflow's database, and tests it the
   way ``airflow connections test vtex_default`` and the UI's Test button do
   (``Connection.test_connection()``, with ``[core] test_connection`` enabled);
4. parses ``example_dags/`` once and, on Airflow 3, writes its DAGs and their assets to the database as
   the DAG processor (or ``airflow dags reserialize``) does: an asset no DAG processor registered is
   inactive, and a task updating it fails;
5. runs every example DAG with ``dag.test()``, what ``airflow dags test <dag_id>`` runs (logs in
   ``<Airflow home>/demo-logs/``): one process pays Airflow's start-up once, not once per DAG, and on
   Airflow 3.0 to 3.2 its tasks share one in-process Execution API, as on 3.3 (see reuse_execution_api);
6. provokes what the VTEX page (Airflow 3.1+) shows as trouble: VTEX refuses one invoice (a run of
   ``example_vtex_invoice_from_ui`` for the order seeded canceled: expected to fail), and one order placed
   two hours ago waits in ready-for-handling, stuck;
7. stops the sandbox and prints what VTEX now holds for each order. With ``--serve`` (``make demo-ui``) it
   first starts Airflow's API server on this home and keeps it and the sandbox running until Ctrl-C, so the
   VTEX page (Airflow's UI, VTEX in the navigation) shows the demo's orders, the stuck one and the refusal.

It exits non-zero, naming the step and its log, if the connection test or any DAG run does not succeed.
Run from ``scripts/``, it imports the provider installed in this Python's environment (the built wheel,
in a smoke run), never the source tree by accident. ``--smoke-checks`` first runs
``scripts/smoke_checks.py``'s checks in this same process (``scripts/smoke.sh`` asks for them).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtex_sandbox import VtexSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent
DEFAULT_AIRFLOW_HOME = REPO / ".airflow"
DAGS_FOLDER = REPO / "example_dags"
CONN_ID = "vtex_default"
#: Every example, in name order, but the invoicing of orders in handling after the intake that starts them
#: (Airflow runs it on the intake's asset event; the demo runs each DAG once, in this order).
INVOICE_AFTER_INTAKE = ("example_vtex_orders_from_feed_events", "example_vtex_invoice_orders_in_handling")
DAGS = [
    *(p.stem for p in sorted(DAGS_FOLDER.glob("example_*.py")) if p.stem not in INVOICE_AFTER_INTAKE),
    *INVOICE_AFTER_INTAKE,
]
#: Run configuration per DAG: the bulk example invoices 10,000 orders by default; the demo asks for
#: fewer, in three chunks (three mapped bulk tasks; dag.test() runs them one after the other), to finish
#: in seconds.
DAG_CONF: dict[str, dict[str, Any]] = {
    "example_vtex_bulk_invoicing": {"invoice_count": 90, "chunk_size": 30},
    # the order is STOCKOUT_ORDER, below
    "example_vtex_stockout": {"order_id": "DEMO-STOCKOUT-01", "sku": "6101", "units_short": 2},
}
BULK_PREFIX = "bulk-"
#: Examples that need Airflow 3's event-driven scheduling (their file defines no DAG on Airflow 2). The
#: tracking DAG is scheduled on the invoice DAG's asset events; it runs after it (name order) and reads
#: the event that run recorded.
AIRFLOW_3_ONLY = {*INVOICE_AFTER_INTAKE, "example_vtex_tracking_on_invoice_events"}
#: The feed configuration the ERP examples expect, and the orders a store's morning brings to it.
FEED_CONFIG = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600},
}
MORNING_ORDERS = [f"DEMO-{n:03d}-01" for n in range(1, 4)]
#: The stockout example's order: placed in handling (the feed's ready-for-handling filter never hands it to
#: the ERP examples, which invoice every ready seeded order before it runs), with the SKU it runs short of.
STOCKOUT_ORDER = "DEMO-STOCKOUT-01"
STOCKOUT_ITEMS = [
    {"id": "6100", "name": "Garden hose", "quantity": 1, "price": 8900},
    {"id": "6101", "name": "Hose clamp", "quantity": 5, "price": 150},
]
#: What the demo provokes for the VTEX page: an invoice VTEX refuses (the seeded canceled order's) and an
#: order nobody takes into handling, placed two hours before the demo (stuck past the page's 30 minutes).
REFUSED_DAG = "example_vtex_invoice_from_ui"
REFUSED_CONF = {
    "order_id": "1172452900790-01",
    "invoice_number": "NF-DEMO-REFUSED",
    "invoice_value": 15900,
    "items": [{"id": "5002", "price": 15900, "quantity": 1}],
}
STUCK_ORDER = "DEMO-STUCK-01"
#: Orders the seed holds in a state no example changes, and why that is expected.
#: The other accounts of example_vtex_several_accounts, served by the same sandbox: a franchise account
#: selling as the main store's white-label seller, and a store on the PII data architecture.
FRANCHISE_ORDER = "FRA-5001-01"
MARKETPLACE_ORDER = "DEMO-MKT-5001-01"
SHOE = [{"id": "2001", "name": "Running shoe", "quantity": 1, "price": 2499}]
SEEDED_ON_PURPOSE = {
    "canceled": "seeded canceled on purpose: the status sensor's failure path, and the invoice VTEX refuses; expected"
}


def airflow_environment(home: Path) -> dict[str, str]:
    """The demo's Airflow configuration; set in ``os.environ`` before Airflow is first imported."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # Connection tests (`airflow connections test`, the UI's Test button) are off unless enabled.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }


def configure_airflow(home: Path) -> None:
    """Point this process's Airflow at ``home``: no inherited ``AIRFLOW__*``/``AIRFLOW_CONN_*`` setting
    may change what the demo runs. Airflow reads its configuration when first imported: call this first."""
    if "airflow" in sys.modules:
        raise RuntimeError("demo: Airflow was imported before its configuration was set")
    for name in [name for name in os.environ if name.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))]:
        del os.environ[name]
    os.environ.update(airflow_environment(home))


@contextlib.contextmanager
def output_to(log: Path) -> Iterator[None]:
    """Send everything written to this process's stdout and stderr to ``log`` meanwhile: file descriptors
    1 and 2 themselves, so Airflow's loggers (which hold the original streams) and task output land there
    too, as ``airflow dags test``'s output did."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("w", encoding="utf-8") as file:
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def migrate_database() -> None:
    """Create or upgrade the metadata database: what ``airflow db migrate`` runs."""
    from airflow.utils.db import upgradedb

    upgradedb()


def define_connection(conn_json: str, conn_id: str = CONN_ID) -> None:
    """(Re)create ``conn_id`` in Airflow's database, as ``airflow connections add --conn-json`` does."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Connection).where(Connection.conn_id == conn_id))
        session.add(Connection.from_json(conn_json, conn_id=conn_id))


def _with_budget(conn_json: str, per_second: float) -> str:
    """The connection with the account's request budget (the sandbox answers 429 above the same)."""
    import json

    spec = json.loads(conn_json)
    spec["extra"]["max_requests_per_second"] = per_second
    return json.dumps(spec)


def test_connection() -> tuple[bool, str]:
    """What ``airflow connections test vtex_default`` runs (and the UI's Test button, through the API):
    the connection as Airflow's secrets find it, and its hook's ``test_connection()``."""
    from airflow.configuration import conf
    from airflow.models.connection import Connection

    if conf.get("core", "test_connection", fallback="Disabled").lower().strip() != "enabled":
        return False, "connection tests are disabled ([core] test_connection)"
    previous = os.environ.get("_AIRFLOW_PROCESS_CONTEXT")
    os.environ["_AIRFLOW_PROCESS_CONTEXT"] = "server"  # as the CLI sets it: the metadata database is at hand
    try:
        # Airflow core is not typed strictly
        status, message = Connection.get_connection_from_secrets(CONN_ID).test_connection()  # type: ignore[no-untyped-call]
    finally:
        if previous is None:
            os.environ.pop("_AIRFLOW_PROCESS_CONTEXT", None)
        else:
            os.environ["_AIRFLOW_PROCESS_CONTEXT"] = previous
    return bool(status), str(message)


def load_dags() -> dict[str, Any]:
    """The DAGs of ``example_dags/``, parsed once, by id. On Airflow 3 they are written to the database
    first, with their assets activated, as the DAG processor writes them (``airflow dags reserialize`` runs
    the same): ``airflow dags test`` does that for the DAG it runs on 3.1+ only, and an asset no DAG
    processor registered is inactive, so a task updating it fails (AirflowInactiveAssetInInletOrOutletException,
    seen on 3.0.6)."""
    try:  # Airflow 3.2+
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
    except ImportError:  # Airflow 2: no bundles; dag.test() needs nothing in the database beforehand
        bag = DagBag(dag_folder=str(DAGS_FOLDER))  # Airflow's examples are off: AIRFLOW__CORE__LOAD_EXAMPLES
    else:
        manager = DagBundlesManager()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
        manager.sync_bundles_to_db()
        bundle = next(b for b in manager.get_all_dag_bundles() if Path(b.path).resolve() == DAGS_FOLDER)
        bundle.initialize()
        bag = DagBag(dag_folder=bundle.path, bundle_path=bundle.path)
        if not bag.import_errors:
            try:  # Airflow 3.1+
                try:
                    from airflow.dag_processing.dagbag import sync_bag_to_db
                except ImportError:  # Airflow 3.1
                    from airflow.models.dagbag import sync_bag_to_db  # type: ignore[no-redef]
            except ImportError:  # Airflow 3.0
                bag.sync_to_db(bundle.name, bundle.get_current_version())  # type: ignore[attr-defined]  # 3.0's
            else:
                # 3.3 types the version str | BundleVersion | None; a local folder's bundle has none (None)
                sync_bag_to_db(bag, bundle.name, bundle.get_current_version())  # type: ignore[arg-type]
    if bag.import_errors:
        raise SystemExit(f"demo: example_dags/ does not parse: {bag.import_errors}")
    return dict(bag.dags)


def reuse_execution_api() -> bool:
    """Have every task of the demo's ``dag.test()`` runs share one in-process Execution API, as Airflow 3.3
    does itself (``in_process_api_server`` cached, apache/airflow PR #65235). Airflow 3.0 to 3.2 build a new
    FastAPI app, and start a new event loop thread, for each task: seconds of CPU per task, most of a
    smoke run, with nothing of the provider's in them. A deployment, too, serves every task from one API
    server. Whether this changed anything (False on Airflow 2, which runs tasks without that API, and on 3.3+)."""
    try:
        from airflow.sdk.execution_time import supervisor
    except ImportError:  # Airflow 2
        return False
    if hasattr(supervisor.in_process_api_server, "cache_info"):  # Airflow 3.3+: cached already
        return False
    supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)
    return True


def run_dag(dag: Any, log: Path, conf: dict[str, Any] | None = None) -> str:
    """One run of ``dag`` with ``dag.test()``, its output in ``log``; the run's final state."""
    with output_to(log):
        try:
            dag_run = dag.test(run_conf=conf if conf is not None else DAG_CONF.get(dag.dag_id))
        except Exception as error:  # noqa: BLE001 - into the DAG's log, and the run counts as failed
            traceback.print_exc()
            return f"error ({type(error).__name__})"
    state = dag_run.state if dag_run is not None else None
    return str(getattr(state, "value", state))


def provoke_trouble(sandbox: VtexSandbox, dags: dict[str, Any], logs: Path, failures: list[str]) -> None:
    """What the VTEX page shows as trouble: an invoice VTEX refuses, and an order stuck in ready-for-handling."""
    import datetime as dt

    step = time.monotonic()
    log = logs / f"{REFUSED_DAG}-refused.log"
    state = run_dag(dags[REFUSED_DAG], log, REFUSED_CONF)
    print(
        f"demo: {REFUSED_DAG:<39} {state:<8} {time.monotonic() - step:5.1f} s   log: {shown(log)}  "
        f"(the invoice of canceled order {REFUSED_CONF['order_id']}: VTEX refuses it, as expected)"
    )
    if state != "failed":
        failures.append(f"{REFUSED_DAG} for the canceled order ({state}, expected failed; see {shown(log)})")
    placed = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    sandbox.place_order(
        STUCK_ORDER, status="ready-for-handling", creationDate=placed.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    print(f"demo: order {STUCK_ORDER} placed two hours ago waits in ready-for-handling: stuck")


def page_available() -> bool:
    """Whether this Airflow shows the VTEX page (3.1+: the provider's plugin adds it)."""
    from airflow_provider_vtex.plugins import vtex_page

    return vtex_page.supported()


def serve(home: Path, logs: Path) -> None:
    """Airflow's API server (the UI) on this home until Ctrl-C; the sandbox runs meanwhile."""
    import signal
    import socket
    import subprocess
    import urllib.request

    if not page_available():
        print("demo: the VTEX page needs Airflow 3.1+; this Airflow has no UI plugins to show it")
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # A local demo: everyone is admin, no sign-in (never so in a deployment).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__BASE_URL": url,
    }
    log = logs / "api-server.log"

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the API server is stopped, not left behind

    signal.signal(signal.SIGTERM, stop)
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):
                        break
                except OSError:
                    time.sleep(1)
            else:
                print(f"demo: the API server did not start (see {shown(log)})")
                return
            print(
                f"demo: Airflow's UI at {url} (no sign-in: a local demo). Open VTEX in the navigation, or "
                f"{url}/vtex/page/ alone. Ctrl-C stops the UI and the sandbox."
            )
            server.wait()
        except KeyboardInterrupt:
            print("\ndemo: stopping the API server and the sandbox")
        finally:
            server.terminate()
            server.wait(timeout=30)


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--airflow-home",
        type=Path,
        default=DEFAULT_AIRFLOW_HOME,
        help="Airflow home (SQLite database, logs); default .airflow/ in the repository",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="then serve Airflow's UI (API server) with the sandbox until Ctrl-C, to open the VTEX page",
    )
    parser.add_argument(
        "--smoke-checks",
        action="store_true",
        help="first run scripts/smoke_checks.py's checks of the installed provider, in this process",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = args.airflow_home.resolve()
    logs = home / "demo-logs"
    logs.mkdir(parents=True, exist_ok=True)
    configure_airflow(home)
    started = time.monotonic()
    finish_smoke_checks = None
    if args.smoke_checks:
        import smoke_checks  # beside this file: scripts/ is first on sys.path

        finish_smoke_checks = smoke_checks.start()
        if finish_smoke_checks is None:
            return 1
    from airflow import __version__ as airflow_version

    import airflow_provider_vtex

    print(
        f"demo: Airflow {airflow_version}, home {home} (SQLite), DAGs from example_dags/, "
        f"provider {airflow_provider_vtex.__version__} from {Path(airflow_provider_vtex.__file__).parent}"
    )
    step = time.monotonic()
    with output_to(logs / "db-migrate.log"):
        migrate_database()
    print(f"demo: metadata database migrated ({time.monotonic() - step:.1f} s)")
    failures: list[str] = []
    # auto_create_orders: the bulk example invoices orders the sandbox does not seed.
    with VtexSandbox(auto_create_orders=True) as sandbox:
        seeded = sandbox.summary()
        print(f"demo: VTEX sandbox serving {sandbox.url} with {len(seeded)} seeded orders")
        # A store's morning: the order feed is configured, customers pay three orders, they become ready
        # for handling, and the feed holds their events for the ERP example to read.
        sandbox.configure_feed(FEED_CONFIG)
        for order_id in MORNING_ORDERS:
            sandbox.place_order(order_id, status="payment-approved")
            sandbox.move_order(order_id, "ready-for-handling")
        print(f"demo: {len(MORNING_ORDERS)} orders placed and paid this morning: {', '.join(MORNING_ORDERS)}")
        sandbox.add_order(STOCKOUT_ORDER, STOCKOUT_ITEMS, status="handling")
        print(f"demo: order {STOCKOUT_ORDER} in handling, for the stockout example")
        # Two more accounts in the same sandbox, for example_vtex_several_accounts: a franchise whose
        # order fulfils a sale of the main store (already invoiced there), and a PII store (seeded).
        sandbox.add_order(MARKETPLACE_ORDER, SHOE, status="handling", sellerOrderId=FRANCHISE_ORDER)
        franchise = sandbox.add_account(
            "franchise",
            app_key="franchise-key",
            app_token="franchise-token",
            orders=[{"orderId": FRANCHISE_ORDER, "items": SHOE, "marketplaceOrderId": MARKETPLACE_ORDER}],
            max_requests_per_second=20,
        )
        store_br = sandbox.add_account(
            "store-br",
            app_key="store-br-key",
            app_token="store-br-token",
            data_architecture="pii",
            seed_default=True,
            max_requests_per_second=20,
        )
        step = time.monotonic()
        log = logs / "connections-test.log"
        with output_to(log):
            define_connection(sandbox.airflow_connection())
            for conn_id, account in (("vtex_franchise", franchise), ("vtex_store_br", store_br)):
                define_connection(_with_budget(account.airflow_connection(), 20), conn_id)
            tested, message = test_connection()
            print(f"{CONN_ID}: {'success' if tested else 'FAILED'}: {message}")
        print(
            f"demo: connection {CONN_ID} tested (what `airflow connections test {CONN_ID}` runs): "
            f"{'success' if tested else 'FAILED: ' + message} ({time.monotonic() - step:.1f} s)"
        )
        if not tested:
            failures.append(f"the connection test of {CONN_ID} ({message}; see {shown(log)})")
        step = time.monotonic()
        with output_to(logs / "dags-parse.log"):
            dags = load_dags()
        print(f"demo: example_dags/ parsed, {len(dags)} DAGs ({time.monotonic() - step:.1f} s)")
        if reuse_execution_api():
            print("demo: one in-process Execution API for all tasks, as Airflow 3.3's dag.test() has")
        from airflow_provider_vtex.compat import AssetWatcher

        ran = 0
        for dag_id in DAGS:
            if dag_id in AIRFLOW_3_ONLY and AssetWatcher is None:
                print(f"demo: {dag_id:<39} skipped: it needs Airflow 3's event-driven scheduling")
                continue
            if dag_id not in dags:
                failures.append(f"{dag_id} (not found in example_dags/)")
                continue
            step = time.monotonic()
            log = logs / f"{dag_id}.log"
            state = run_dag(dags[dag_id], log)
            ran += 1
            print(f"demo: {dag_id:<39} {state:<8} {time.monotonic() - step:5.1f} s   log: {shown(log)}")
            if state != "success":
                failures.append(f"{dag_id} ({state}; see {shown(log)})")
        provoke_trouble(sandbox, dags, logs, failures)
        summary = sandbox.summary()
        requests_served = len(sandbox.requests)
        if args.serve and not failures:
            serve(home, logs)
    print(f"demo: sandbox stopped after serving {requests_served} VTEX API requests")
    print_summary(summary, seeded)
    if finish_smoke_checks is not None and not finish_smoke_checks():
        failures.append("the smoke check of `airflow providers list` (above)")
    if failures:
        print("demo FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    skipped = len(DAGS) - ran
    print(
        f"demo: {ran} example DAGs ran and succeeded"
        + (f", {skipped} skipped (they need Airflow 3)" if skipped else "")
        + f"; {time.monotonic() - started:.0f} s in all"
    )
    if page_available():
        print(
            "demo: to see the VTEX page (the demo's orders, the stuck order, the refusal): `make demo-ui` runs the "
            "demo, then serves Airflow's UI with the sandbox until Ctrl-C (docs/vtex-page.md)"
        )
    print(
        "demo: each ran with dag.test(), what `airflow dags test <dag_id>` runs, in this one process. To run "
        "one yourself: start the sandbox (`vtex-sandbox --port 8089`), export the connection it prints, then "
        "`airflow dags test <dag_id>` (docs/getting-started.md)"
    )
    return 0


if __name__ == "__main__":
    exit_code = main()
    # Airflow leaves half a million objects behind: without this, the interpreter's last garbage collections
    # take seconds on the way out.
    gc.freeze()
    raise SystemExit(exit_code)
