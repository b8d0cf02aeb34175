"""A real Airflow 3 deployment for tests: scheduler, DAG processor, triggerer and API server as separate
processes (plus any workers a test adds), on this machine, bound to 127.0.0.1.

What it gives a test, and why each piece:

* an isolated ``AIRFLOW_HOME`` and an environment built from scratch (the in-process suite's Airflow
  settings, set by ``tests/conftest.py``, must not leak in), with a metadata database of its own from
  :mod:`tests.deployment.database` (SQLite unless ``VTEX_TEST_DATABASE`` says otherwise), copied from a
  template that ``airflow db migrate`` migrated once for the whole test process (:func:`migrated_template`);
* ``AIRFLOW__CORE__EXECUTION_API_SERVER_URL`` pointing at this API server: Airflow 3 task processes talk
  to the API server, not to the database, and default to port 8080;
* helpers over the REST API to trigger a DAG run (with conf), wait for its end and read task-instance
  states and tries; ``airflow tasks clear`` as a user runs it;
* crashes on purpose: SIGKILL a task's own process (found by the title Airflow gives it,
  ``airflow worker -- <task instance id>``), or SIGKILL a whole component with what it forked and
  restart it;
* :meth:`AirflowDeployment.stop` stops every component (SIGTERM, then SIGKILL to its session) and then
  anything still carrying this deployment's ``AIRFLOW_HOME``, and returns what it had to kill that way
  (a test asserts none).
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.deployment.database import MetadataDatabase, database_for
from tests.deployment.processes import (
    ManagedProcess,
    describe,
    free_port,
    kill_pids,
    processes_in_sessions,
    processes_titled,
    wait_for,
)

AIRFLOW = [sys.executable, "-m", "airflow"]
#: The components every deployment runs; a test may add workers (:meth:`AirflowDeployment.add_component`).
CORE_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
FINISHED_RUN_STATES = frozenset({"success", "failed"})

#: Settings that differ from one deployment to the next and that ``airflow db migrate`` writes nothing of
#: (it creates the schema from [database] and [core], the default pool, the log template): a template
#: migrated under another deployment's values serves this one. The Fernet key among them: a migration
#: stores no connection or variable, nothing encrypted.
PER_DEPLOYMENT_SETTINGS = frozenset(
    {
        "AIRFLOW_HOME",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
        "AIRFLOW__CORE__PARALLELISM",  # read by the scheduler and the executor only
    }
)
#: Sections of the components a migration does not run (their settings shape how a running scheduler,
#: triggerer... behaves, not the schema): a deployment that tunes them shares the template.
RUNTIME_SECTIONS = ("API", "API_AUTH", "SCHEDULER", "TRIGGERER", "DAG_PROCESSOR", "WORKERS")


class _Template:
    """A migrated database and the folder that was its ``AIRFLOW_HOME``."""

    def __init__(self, database: MetadataDatabase, folder: Path) -> None:
        self.database = database
        self.folder = folder

    def remove(self) -> None:
        try:
            self.database.drop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


_templates: dict[tuple[Any, ...], _Template] = {}


def migration_settings(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The settings of ``env`` a migration may depend on: Airflow's, less :data:`PER_DEPLOYMENT_SETTINGS`,
    connections (``AIRFLOW_CONN_*``: environment, never stored) and :data:`RUNTIME_SECTIONS`. Deployments
    whose migration settings are equal share one template; a different one gets its own (slower, never
    wrong)."""
    runtime = tuple(f"AIRFLOW__{section}__" for section in RUNTIME_SECTIONS)
    return tuple(
        sorted(
            (key, value)
            for key, value in env.items()
            if key.startswith("AIRFLOW")
            and key not in PER_DEPLOYMENT_SETTINGS
            and not key.startswith(("AIRFLOW_CONN_", *runtime))
        )
    )


def migrated_template(backend: str, env: dict[str, str], timeout: float) -> MetadataDatabase:
    """A database of ``backend`` that ``airflow db migrate`` migrated with ``env``'s migration settings
    (:func:`migration_settings`), in a folder of its own: made on first use in this process, then reused.
    Removed by :func:`remove_templates`, at the latest when the process exits."""
    key = (backend, sys.executable, migration_settings(env))
    template = _templates.get(key)
    if template is None:
        if not _templates:
            atexit.register(remove_templates)
        folder = Path(tempfile.mkdtemp(prefix="vtex-airflow-template-"))
        database = database_for(folder, backend)
        template = _Template(database, folder)
        try:
            database.create()
            migrate_env = {
                **env,
                "AIRFLOW_HOME": str(folder),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database.url(),
                **database.environment(),
            }
            result = subprocess.run(
                [*AIRFLOW, "db", "migrate"],
                env=migrate_env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"airflow db migrate (template) exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
                )
        except BaseException:
            template.remove()
            raise
        _templates[key] = template
    return template.database


def remove_templates() -> None:
    """Drop every template database of this process and stop the PostgreSQL server they and the
    deployments' databases were on, if one was started (:mod:`tests.deployment.postgres`)."""
    from tests.deployment.postgres import stop_shared_server

    try:
        while _templates:
            _templates.popitem()[1].remove()
    finally:
        stop_shared_server()


class AirflowDeployment:
    """See the module docstring. Use as a context manager, or call :meth:`start` and :meth:`stop`.

    :param home: an empty folder: AIRFLOW_HOME, logs, process output.
    :param dags_folder: the DAG files to serve.
    :param env: extra environment for every process (``AIRFLOW_CONN_*``, executor settings...).
    :param executor: ``LocalExecutor`` (default) or e.g. ``CeleryExecutor`` (then add worker components).
    :param database: the metadata database; by default the one ``VTEX_TEST_DATABASE`` names.
    """

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        *,
        env: dict[str, str] | None = None,
        executor: str = "LocalExecutor",
        database: MetadataDatabase | None = None,
    ) -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.database = database or database_for(home)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process_logs = home / "process-logs"
        self.components: dict[str, ManagedProcess] = {}
        self.env = self._environment(executor, env or {})
        self._logical_dates: dict[tuple[str, str], str] = {}

    def _environment(self, executor: str, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__", "PYTEST_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),  # also the marker that finds strays (stop())
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__CORE__EXECUTOR": executor,
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database.url(),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                # GET /api/v2/config answers (sensitive values masked): config_value() reads settings back.
                "AIRFLOW__API__EXPOSE_CONFIG": "True",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # A task whose worker vanished is failed (and retried) after 20 s, not Airflow's 5 minutes.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
                # A scheduler's job counts as dead after Airflow's 30 s without a heartbeat, and a restarted
                # scheduler looks for the task instances it orphaned every 5 s (Airflow: 5 minutes). Not
                # less: the check counts every scheduler, itself included, so a live scheduler whose loop
                # stalls past the threshold on a loaded machine marks its own job failed and resets the task
                # instances it queued or runs, which then run again under the next try number (apache/airflow
                # #16023; #33089 for the same with a 10.5 s triggerer threshold). At 10 s that turned a
                # cleared task's try 2 into try 3 in CI. A killed task is failed by its own heartbeat timeout.
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "30",
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "5",
                # A killed triggerer's job counts as dead after 15 s (three missed heartbeats; Airflow: 30 s):
                # only then does a restarted triggerer take over its triggers (asset watchers included).
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                # A task supervisor wakes every second (not every 5 s), so it reports a killed task process
                # at once: the retry starts sooner, the harder case for the visibility window.
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
                "PYTHONUNBUFFERED": "1",
                **self.database.environment(),
                **extra,
            }
        )
        return env

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 180) -> AirflowDeployment:
        """Make the database (a copy of this process's migrated template: :func:`migrated_template`),
        start the core components and wait until all report healthy."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.database.copy_from(migrated_template(self.database.name, self.env, timeout))
        self.add_component("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        for name in CORE_COMPONENTS[1:]:
            self.add_component(name, name)
        wait_for("the Airflow components to report healthy", self._healthy, timeout, alive=self.check_alive)
        return self

    def add_component(self, name: str, *airflow_args: str) -> ManagedProcess:
        """Start ``airflow <airflow_args>`` as a named component (e.g. a Celery worker)."""
        process = ManagedProcess(name, [*AIRFLOW, *airflow_args], self.env, self.process_logs / f"{name}.log")
        self.components[name] = process
        process.start()
        return process

    def kill_component(self, name: str) -> None:
        """SIGKILL a component with everything it forked (executor workers, running tasks)."""
        self.components[name].kill()

    def restart_component(self, name: str, timeout: float = 120) -> None:
        self.components[name].start()
        wait_for(f"{name} to report healthy again", self._healthy, timeout, alive=self.check_alive)

    def check_alive(self) -> None:
        """Raise, with its output, if a component exited: waiting on it would only time out."""
        for name, process in self.components.items():
            if process.popen is not None and not process.running():
                raise RuntimeError(
                    f"airflow {name} exited with {process.popen.returncode}; its output:\n{process.log_tail()}"
                )

    def _healthy(self) -> bool:
        health = self.get("/api/v2/monitor/health")
        parts = ["metadatabase", "scheduler", "triggerer", "dag_processor"]
        return all((health.get(part) or {}).get("status") == "healthy" for part in parts)

    def stop(self, timeout: float = 20) -> list[Any]:
        """Stop every component (SIGTERM, then SIGKILL), then kill anything else still running with this
        AIRFLOW_HOME. Returns those last ones as ``(pid, command line)``: a clean stop returns ``[]``."""
        for process in reversed(list(self.components.values())):
            process.stop(timeout)
        strays = self.live_processes()
        described = describe(strays)
        kill_pids(strays)
        self.database.drop()
        return described

    def live_processes(self) -> list[int]:
        """Every process of this deployment still alive (see :mod:`tests.deployment.processes`)."""
        sessions = {p.pid for p in self.components.values() if p.popen is not None}
        return processes_in_sessions(sessions, marker=f"AIRFLOW_HOME={self.home}")

    def __enter__(self) -> AirflowDeployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the CLI and the REST API
    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run ``airflow <args>`` against this deployment; its output, or an error carrying it."""
        result = subprocess.run(
            [*AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, payload = self.request("GET", path)
        if status != 200:
            server = self.components.get("api-server")
            tail = f"; the API server's output ends:\n{server.log_tail()}" if server and status >= 500 else ""
            raise RuntimeError(f"GET {path} answered {status}: {payload}{tail}")
        return payload

    def config_value(self, section: str, option: str) -> str:
        """``[section] option`` as this deployment's API server reads it, from the environment (and the
        ``AIRFLOW_HOME``) every component of the deployment shares: a test asserts what it runs with."""
        payload = self.get(f"/api/v2/config/section/{section}/option/{option}")
        return str(payload["sections"][0]["options"][0]["value"])

    # ------------------------------------------------------------------ DAG runs and task instances
    def wait_for_dags(self, *dag_ids: str, timeout: float = 120) -> None:
        """Wait until the DAG processor has stored each DAG (a run can be triggered then)."""
        for dag_id in dag_ids:
            wait_for(
                f"DAG {dag_id} to be parsed from {self.dags_folder}",
                lambda dag_id=dag_id: self.request("GET", f"/api/v2/dags/{dag_id}")[0] == 200,
                timeout,
                alive=self.check_alive,
            )

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        """Start a DAG run now; returns its run id. Its logical date is unique, so that ``airflow tasks
        clear`` (which selects runs by logical date) can aim at this run alone."""
        logical_date = dt.datetime.now(dt.timezone.utc).isoformat()
        body: dict[str, Any] = {"logical_date": logical_date, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        status, payload = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        if status != 200:
            raise RuntimeError(f"triggering {dag_id} answered {status}: {payload}")
        run_id = str(payload["dag_run_id"])
        self._logical_dates[(dag_id, run_id)] = str(payload.get("logical_date") or logical_date)
        return run_id

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}"))

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        """Wait until the run has finished; returns ``success`` or ``failed``."""
        state: str = wait_for(
            f"run {run_id} of {dag_id} to finish",
            lambda: s if (s := self.run(dag_id, run_id)["state"]) in FINISHED_RUN_STATES else None,
            timeout,
            interval=1.0,
            alive=self.check_alive,
        )
        return state

    def paged(self, path: str, key: str, page: int = 100) -> list[dict[str, Any]]:
        """Every entry of a paged list of the REST API (``limit``/``offset``; Airflow caps a page at 100)."""
        entries: list[dict[str, Any]] = []
        separator = "&" if "?" in path else "?"
        while True:
            batch = list(self.get(f"{path}{separator}limit={page}&offset={len(entries)}")[key])
            entries.extend(batch)
            if len(batch) < page:
                return entries

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of the DAG: ``dag_run_id``, ``run_type`` (``manual``, ``scheduled``, ``asset_triggered``),
        ``state``, ``run_after``, ``start_date``, ``end_date``..."""
        return self.paged(f"/api/v2/dags/{dag_id}/dagRuns", "dag_runs")

    def asset_events(self, asset_name: str, since: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Every event of the asset (stored at or after ``since``, if given), oldest first: ``extra`` (a
        watcher's event carries ``{"from_trigger": true, "payload": ...}``) and ``created_dagruns`` (the
        runs that consumed it; empty: none)."""
        path = f"/api/v2/assets/events?name_pattern={_quote(asset_name)}"
        if since is not None:
            path += f"&timestamp_gte={_quote(since.isoformat())}"
        (events,) = wait_for(
            "the asset's events (Airflow 3.3.2 lists none while a run that took one has not started)",
            lambda: self._events_unless_a_run_waits(path),
            UNSTARTED_RUN_WAIT,
            2,
        )
        return sorted(
            (e for e in events if e.get("name") == asset_name), key=lambda e: (e["timestamp"], e["id"])
        )

    def _events_unless_a_run_waits(self, path: str) -> tuple[list[dict[str, Any]]] | None:
        """The events (in a tuple: no event is an answer too), or None while Airflow cannot list them
        because a run that took one has not started: the API server answers 500 then
        (``DagRunAssetReference.start_date`` is required, and a queued run has none: apache/airflow#71360,
        fixed by #71379 after 3.3.2). Any other failure raises."""
        try:
            return (self.paged(path, "asset_events"),)
        except RuntimeError as exc:
            if "created_dagruns" in str(exc) and "start_date" in str(exc):
                return None
            raise

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run: ``task_id``, ``map_index``, ``state``, ``try_number``, ``id``..."""
        # Paged: Airflow answers at most ``[api] maximum_page_limit`` (100) entries whatever ``limit`` asks.
        return self.paged(f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances", "task_instances")

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        for ti in self.task_instances(dag_id, run_id):
            if ti["task_id"] == task_id and ti.get("map_index", -1) == map_index:
                return ti
        raise LookupError(f"no task instance {task_id}[{map_index}] in run {run_id} of {dag_id}")

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 120
    ) -> dict[str, Any]:
        ti: dict[str, Any] = wait_for(
            f"task {task_id} of run {run_id} to reach {sorted(states)}",
            lambda: t if (t := self.task_instance(dag_id, run_id, task_id))["state"] in states else None,
            timeout,
            interval=0.2,
            alive=self.check_alive,
        )
        return ti

    def clear_task(self, dag_id: str, run_id: str, task_id: str) -> None:
        """``airflow tasks clear``, as an operator would type it, for one task of one run.

        Airflow 3.3's ``-t`` matches task ids by substring (despite its help text saying regex, an anchored
        pattern matches nothing), so a task id that is part of another's clears both.
        """
        logical_date = self._logical_dates[(dag_id, run_id)]
        self.cli("tasks", "clear", dag_id, "-t", task_id, "-s", logical_date, "-e", logical_date, "-y")

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """A task's XCom value (by default its return value)."""
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}/xcomEntries/{key}"
            f"?map_index={map_index}&deserialize=true"
        )
        return self.get(path)["value"]

    def task_process_pids(self, ti_id: str) -> list[int]:
        """The PIDs of the process running a task instance now (Airflow titles it with the TI's id)."""
        return processes_titled(f"airflow worker -- {ti_id}", self.live_processes())

    def kill_task_process(self, dag_id: str, run_id: str, task_id: str, timeout: float = 60) -> list[int]:
        """SIGKILL the running task's own process (not its supervisor), as a crash would; returns the PIDs."""
        ti = self.wait_for_task_state(dag_id, run_id, task_id, {"running"}, timeout)
        pids: list[int] = wait_for(
            f"the process of task {task_id}", lambda: self.task_process_pids(str(ti["id"])), timeout, 0.05
        )
        kill_pids(pids)
        return pids

    def task_logs(self, dag_id: str | None = None) -> str:
        """Every task log file (of one DAG, or all), concatenated."""
        folder = self.home / "logs" / (f"dag_id={dag_id}" if dag_id else "")
        if not folder.exists():
            return ""
        return "\n".join(p.read_text(errors="replace") for p in sorted(folder.rglob("*.log")) if p.is_file())

    def output_marks(self) -> dict[str, int]:
        """How much each component has printed so far: ``component_output(since=...)`` reads what came after."""
        return {name: p.log_path.stat().st_size for name, p in self.components.items() if p.log_path.exists()}

    def component_output(self, since: dict[str, int] | None = None) -> str:
        """What the components printed (stdout and stderr), concatenated; only what came after ``since``
        (:meth:`output_marks`), if given."""
        marks = since or {}
        return "\n".join(
            p.log_path.read_bytes()[marks.get(name, 0) :].decode(errors="replace")
            for name, p in self.components.items()
            if p.log_path.exists()
        )


#: How long a listing of asset events waits for the runs that took them to start (see
#: ``_events_unless_a_run_waits``): a queued run waits for a free slot under ``max_active_runs``.
UNSTARTED_RUN_WAIT = 300


def _quote(run_id: str) -> str:
    return urllib.parse.quote(run_id, safe="")
