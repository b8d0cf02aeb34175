"""A real Airflow 3 deployment for the UI test: API server, scheduler and DAG processor as subprocesses.

SQLite in a temporary AIRFLOW_HOME, LocalExecutor, everything bound to 127.0.0.1 on free ports, no
login (simple auth manager, all admins). The environment is built from scratch for the Airflow
variables: ``tests/conftest.py`` sets AIRFLOW_HOME and friends for the in-process suite at import time,
and none of that may leak into this deployment.

Every process is started in its own session (process group), so :meth:`AirflowStack.stop` can end it
with everything it spawned (uvicorn workers, LocalExecutor workers, task supervisors): SIGTERM to the
group, then SIGKILL after a timeout.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = [sys.executable, "-m", "airflow"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - any failure just means "not yet"
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})")


class AirflowStack:
    """``airflow db migrate``, then ``api-server``, ``scheduler`` and ``dag-processor``; see the module doc."""

    def __init__(self, home: Path, dags_folder: Path = REPO_ROOT / "example_dags") -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs_dir = home / "process-logs"
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW_", "AIRFLOW__", "PYTEST_"))
        }
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # Pick up the DAG files at once and let the scheduler start a triggered run quickly.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # ------------------------------------------------------------------ processes
    def run_cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command against this deployment; fails loudly with its output."""
        result = subprocess.run(
            [*AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def _spawn(self, name: str, *args: str) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.logs_dir / f"{name}.log", "wb") as log:
            self._processes[name] = subprocess.Popen(
                [*AIRFLOW, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends its children too
            )

    def start(self, timeout: float = 90) -> AirflowStack:
        self.run_cli("db", "migrate")
        self._spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        wait_for("the Airflow API server, scheduler and DAG processor", self._healthy, timeout)
        return self

    def _healthy(self) -> bool:
        self._check_alive()
        health = self.get_json("/api/v2/monitor/health")
        return all(
            health.get(part, {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "dag_processor")
        )

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"airflow {name} exited with {process.returncode}; its log:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, chars: int = 6000) -> str:
        path = self.logs_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM every process group started here, then SIGKILL what is still there after ``timeout``."""
        for process in self._processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self._processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self._processes.values():
            # Also end children left behind in the group after the leader exited.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        for pid in self.stray_processes():  # one that left the group but carries this AIRFLOW_HOME
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def stray_processes(self) -> list[int]:
        """PIDs still alive that this deployment started (empty after a clean :meth:`stop`).

        A process counts as ours if it is in one of the process groups started here, or if it runs
        with this deployment's AIRFLOW_HOME in its environment (in case one started its own session).
        """
        groups = {process.pid for process in self._processes.values()}
        marker = f"AIRFLOW_HOME={self.home}".encode()
        alive = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                state, pgid = fields[0], int(fields[2])
                if state == "Z":
                    continue
                ours = pgid in groups or marker in (entry / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ours:
                alive.append(int(entry.name))
        return alive

    # ------------------------------------------------------------------ REST API
    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def get_json(self, path: str) -> Any:
        status, payload = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {payload}")
        return payload
