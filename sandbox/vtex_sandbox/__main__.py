"""``vtex-sandbox`` / ``python -m vtex_sandbox``: run the sandbox until stopped.

Meant for demos and manual testing of DAGs: it prints the URL and the ``AIRFLOW_CONN_VTEX_DEFAULT``
line to export, then serves until SIGINT or SIGTERM (exit status 0).

Example::

    vtex-sandbox --port 8089 --fault invoice:rate_limit:count=3,retry_after=1
    vtex-sandbox --port 8443 --tls   # HTTPS with a throwaway self-signed certificate
    vtex-sandbox --data-architecture pii   # a store on VTEX's PII data architecture
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from vtex_sandbox.app import VtexSandbox
from vtex_sandbox.faults import Fault, FaultError

if TYPE_CHECKING:
    from types import FrameType


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vtex-sandbox",
        description="Local, stateful fake of VTEX's OMS API (invoice and tracking notifications).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 = any free port)")
    parser.add_argument("--app-key", default="sandbox-key", help="expected X-VTEX-API-AppKey")
    parser.add_argument("--app-token", default="sandbox-token", help="expected X-VTEX-API-AppToken")
    parser.add_argument(
        "--seed", metavar="FILE", help="JSON file of orders to load instead of the bundled seed"
    )
    parser.add_argument("--no-seed", action="store_true", help="start with no orders")
    parser.add_argument(
        "--invoice-visibility-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="a new invoice shows in GET order only after this delay (OMS is eventually consistent)",
    )
    parser.add_argument(
        "--auto-create-orders",
        action="store_true",
        help="an invoice for an unknown order creates the order from the invoice (bulk demos, benchmarks)",
    )
    parser.add_argument(
        "--data-architecture",
        choices=("standard", "pii"),
        default="standard",
        help="the store's VTEX data architecture: 'standard' serves the OMS routes (/api/oms/pvt/orders/...), "
        "'pii' the PII data architecture's routes (/api/orders/pvt/document/...) (default: standard)",
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, metavar="SECONDS", help="default Retry-After of 429 faults"
    )
    parser.add_argument(
        "--permission",
        action="append",
        metavar="RESOURCE",
        help='grant only these License Manager resources (repeatable), e.g. --permission "View order"',
    )
    parser.add_argument(
        "--max-log",
        type=int,
        default=100_000,
        metavar="N",
        help="keep the last N requests in the request log (default 100000; small for long load tests)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a self-signed certificate for 127.0.0.1/localhost (made at start, deleted "
        "at exit; the printed connection trusts it through its 'verify' extra)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ROUTE:KIND[:K=V,...]",
        help="inject a fault (repeatable), e.g. invoice:rate_limit:count=3,retry_after=1 or "
        "*:latency:latency=0.2 or invoice:drop_after_commit:count=1 or get_order:truncated:status=200",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vtex-sandbox`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = [Fault.parse(spec) for spec in args.fault]
    except FaultError as exc:
        parser.error(str(exc))
    try:
        sandbox = VtexSandbox(
            host=args.host,
            port=args.port,
            app_key=args.app_key,
            app_token=args.app_token,
            seed_file=args.seed,
            seed_default=not args.no_seed,
            permissions=args.permission,
            invoice_visibility_delay=args.invoice_visibility_delay,
            retry_after_seconds=args.retry_after,
            auto_create_orders=args.auto_create_orders,
            data_architecture=args.data_architecture,
            tls=args.tls,
            max_log=args.max_log,
        )
        sandbox.start()
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"vtex-sandbox: cannot start: {exc}", file=sys.stderr)
        return 1
    for fault in faults:
        sandbox.add_fault(fault)

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _on_signal)
    try:
        print(f"vtex-sandbox listening on {sandbox.url}", flush=True)
        print(f"orders: {', '.join(sandbox.state.order_ids()) or '(none)'}", flush=True)
        if sandbox.ca_file is not None:
            print(f"certificate to trust (CA file): {sandbox.ca_file}", flush=True)
        for fault in faults:
            print(f"fault: {fault.to_dict()}", flush=True)
        print(f"data architecture: {sandbox.data_architecture}", flush=True)
        print("export the Airflow connection with:", flush=True)
        print(f"export AIRFLOW_CONN_VTEX_DEFAULT={shlex.quote(sandbox.airflow_connection())}", flush=True)
        admin = f"{sandbox.url}/_sandbox"
        print(
            f"admin: {admin}/orders  {admin}/requests  {admin}/stats  {admin}/timeline  {admin}/feeds  "
            f"{admin}/simulate",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("vtex-sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
