"""Shared pieces of the benchmarks: the sandbox in its own process, quiet logging, statistics, machine info.

The benchmarks print ratios measured side by side in one run (interleaved rounds, medians), because
absolute times on a shared 2-core machine move by tens of percent from minute to minute while the
ratio of two things measured in the same minute barely does. They are not tests: nothing asserts.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ORDER_ID = "70caf3941s6df1"  # seeded: one SKU "2001", price 2499, quantity 3, value 7497
INVOICE: dict[str, Any] = {
    "type": "Output",
    "invoiceNumber": "NF-BENCH-1",
    "invoiceValue": "7497",
    "issuanceDate": "2024-01-31T18:25:43-03:00",
    "items": [{"id": "2001", "price": 2499, "quantity": 3}],
}
#: requests lets these override Session.verify (psf/requests#3829), which would make every HTTPS client
#: distrust the sandbox's certificate; the benchmarks do not need the system CA bundle.
CA_BUNDLE_ENV_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def prepare_environment() -> None:
    """Call before importing Airflow: quiet logging, no CA-bundle override, no network lookups."""
    # Airflow 3 logs through structlog, filtered at this level: nothing below ERROR is even formatted.
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    for name in CA_BUNDLE_ENV_VARS:
        os.environ.pop(name, None)
    # requests would otherwise consult proxy settings of the environment on every call; keep loopback direct.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def silence_logging() -> None:
    """No log I/O inside timed loops, for any client: stdlib logging off below ERROR, structlog filtered."""
    logging.disable(logging.WARNING)
    for name in ("airflow", "airflow.task", "airflow.task.hooks", "urllib3", "requests"):
        logging.getLogger(name).setLevel(logging.ERROR)


@dataclass
class SandboxProcess:
    url: str
    connection: dict[str, Any]
    process: subprocess.Popen[str]

    @property
    def ca_file(self) -> str | None:
        verify = self.connection["extra"].get("verify")
        return verify if isinstance(verify, str) else None

    @property
    def auth_headers(self) -> dict[str, str]:
        return {
            "X-VTEX-API-AppKey": self.connection["login"],
            "X-VTEX-API-AppToken": self.connection["password"],
        }

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        import requests

        response = requests.request(
            method,
            f"{self.url}/_sandbox/{path}",
            json=body,
            verify=self.ca_file or True,
            timeout=60,
        )
        response.raise_for_status()
        return response.json()


@contextmanager
def sandbox_process(*args: str) -> Iterator[SandboxProcess]:
    """``python -m vtex_sandbox --port 0 ARGS``: its own process, so its CPU time does
    not compete with the client for one GIL (it does compete for the machine's cores)."""
    command = [sys.executable, "-m", "vtex_sandbox", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = None
        connection = None
        for _ in range(60):
            line = process.stdout.readline().removeprefix("export ")
            if not line:
                raise RuntimeError(f"sandbox exited: {shlex.join(command)}")
            if line.startswith("vtex-sandbox listening on "):
                url = line.rsplit(" ", 1)[1].strip()
            if line.startswith("AIRFLOW_CONN_VTEX_DEFAULT="):
                connection = json.loads(shlex.split(line.split("=", 1)[1])[0])
                break
        if url is None or connection is None:
            raise RuntimeError("the sandbox did not print its URL and connection")
        yield SandboxProcess(url=url, connection=connection, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """min..max of the rounds, to show how noisy the machine was."""
    return f"{min(values):.3f}..{max(values):.3f}"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "unknown"
    try:
        from importlib.metadata import version

        airflow_version = version("apache-airflow")
    except Exception:  # noqa: BLE001 - informational only
        airflow_version = "unknown"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "airflow": airflow_version,
    }


def print_header(title: str) -> None:
    info = machine()
    print(f"== {title}")
    print(
        f"   machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
        f"Airflow {info['airflow']}; {time.strftime('%Y-%m-%d %H:%M')}"
    )


def sandbox_supports(flag: str) -> bool:
    """Whether this version of the sandbox's command line knows ``flag`` (e.g. ``--auto-create-orders``)."""
    result = subprocess.run([sys.executable, "-m", "vtex_sandbox", "--help"], capture_output=True, text=True)
    return flag in result.stdout


def bulk_entries(prefix: str, count: int) -> list[dict[str, Any]]:
    """``count`` invoices for ``count`` different orders ``{prefix}-00001...``: the bulk operator's input."""
    return [
        {
            "order_id": f"{prefix}-{index:05d}",
            "invoice": {
                "type": "Output",
                "invoiceNumber": f"NF-{prefix}-{index:05d}",
                "invoiceValue": "2499",
                "issuanceDate": "2024-01-31T18:25:43-03:00",
                "items": [{"id": "2001", "price": 2499, "quantity": 1}],
            },
        }
        for index in range(1, count + 1)
    ]


def create_orders(sandbox: SandboxProcess, entries: list[dict[str, Any]]) -> None:
    """For a sandbox without ``--auto-create-orders``: make each order before timing (admin API)."""
    import requests

    with requests.Session() as session:
        session.verify = sandbox.ca_file or True
        for entry in entries:
            items = [{**item, "name": "Bench SKU"} for item in entry["invoice"]["items"]]
            response = session.post(
                f"{sandbox.url}/_sandbox/orders",
                json={"orderId": entry["order_id"], "items": items},
                timeout=30,
            )
            response.raise_for_status()


def use_connection(sandbox: SandboxProcess, conn_id: str = "vtex_default") -> str:
    """Point the Airflow connection ``conn_id`` at the sandbox through its ``AIRFLOW_CONN_*`` variable."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(sandbox.connection)
    return conn_id


#: Where the benchmarks write their tables; docs/benchmarks.md includes them (``make docs``).
REPORT_DIR = Path(
    os.environ.get("VTEX_BENCH_REPORT_DIR", Path(__file__).resolve().parent.parent / "docs" / "benchmarks")
)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, or "unknown" where the system has none."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


@dataclass
class Report:
    """A benchmark's results as a Markdown table for the docs, written to ``docs/benchmarks/NAME.md``.

    Every figure in the docs' benchmark tables comes from such a file: a run rewrites it with its date,
    machine and load (at the start and the end of the run: a shared machine's load moves the figures), so
    a reader sees when and where each figure was measured, and nobody retypes it.
    """

    name: str
    title: str
    columns: tuple[str, ...] = ("What", "Result", "Target")
    versions: tuple[str, ...] = ()  # distributions whose versions matter to the figures
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_at_start: str = field(default_factory=load_average)
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))

    def row(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.name}: a row needs {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(tuple(str(cell).replace("|", "\\|") for cell in cells))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        info = machine()
        versions = [f"Python {info['python']}", f"Airflow {info['airflow']}"]
        for distribution in self.versions:
            try:
                from importlib.metadata import version

                versions.append(f"{distribution} {version(distribution)}")
            except Exception:  # noqa: BLE001 - informational only
                versions.append(f"{distribution} (not installed)")
        lines = [
            f"<!-- Written by benchmarks/{self.name}.py (make bench): do not edit; run it again. -->",
            f"**{self.title}** (`benchmarks/{self.name}.py`): run from {self.started} to "
            f"{time.strftime('%H:%M %Z')} on "
            f"{info['cores']} cores ({info['cpu']}); {', '.join(versions)}; load average (1 / 5 / 15 min) "
            f"{self.load_at_start} at the start, {load_average()} at the end.",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "---|" * len(self.columns),
            *("| " + " | ".join(cells) + " |" for cells in self.rows),
        ]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines) + "\n"

    def write(self) -> Path:
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        path = REPORT_DIR / f"{self.name}.md"
        path.write_text(self.render(), encoding="utf-8")
        print(f"-- table written to {path}")
        return path
