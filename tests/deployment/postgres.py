"""A throwaway PostgreSQL server on a free loopback port: the metadata database of a test deployment.

Debian's ``postgresql`` package is expected (``make test-events DATABASE=postgresql`` installs it when
missing); its programs live in ``/usr/lib/postgresql/<version>/bin``, off ``PATH``. The cluster is made
with ``initdb`` in a temporary folder (trust authentication: nothing but this machine can reach it),
listens on 127.0.0.1 only (no Unix socket), runs without ``fsync`` (the data is thrown away), and is
stopped and deleted with the test.

PostgreSQL refuses to run as root. When the tests run as root (CI on a fresh machine), every PostgreSQL
program runs as the ``postgres`` user (``runuser``), which owns the temporary folder.

One server serves a whole test process (:func:`shared_server`, stopped by :func:`stop_shared_server`, at
the latest when the process exits): each deployment gets a database of its own on it
(:meth:`PostgresServer.create_database`, dropped with the deployment), made as a copy of a migrated
template database, so Airflow's schema is migrated once per process instead of once per deployment.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.deployment.processes import ManagedProcess, describe, free_port, processes_in_sessions, wait_for

#: The superuser initdb creates.
USER = "airflow"
#: The account PostgreSQL runs under when the tests run as root (Debian's package creates it).
SYSTEM_USER = "postgres"
INSTALL_HINT = (
    "`make test-events DATABASE=postgresql` installs it (apt-get install postgresql), "
    "or install your distribution's PostgreSQL server"
)


def find_bindir() -> Path:
    """The folder with ``initdb``, ``postgres`` and ``pg_ctl``: on ``PATH``, else Debian's newest
    ``/usr/lib/postgresql/<version>/bin``."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise FileNotFoundError(
            f"PostgreSQL's initdb was not found on PATH nor in /usr/lib/postgresql: {INSTALL_HINT}"
        )
    return versions[-1].parent


class PostgresServer:
    """One PostgreSQL cluster: :meth:`start` makes and starts it, :meth:`stop` stops and deletes it."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.folder: Path | None = None
        self.process: ManagedProcess | None = None

    @property
    def data(self) -> Path:
        if self.folder is None:
            raise RuntimeError("the PostgreSQL server was not started")
        return self.folder / "data"

    def _argv(self, program: str, *args: str) -> list[str]:
        """``program`` from the bindir, run as ``postgres`` when we are root (PostgreSQL refuses root)."""
        argv = [str(self.bindir / program), *args]
        return ["runuser", "-u", SYSTEM_USER, "--", *argv] if self.as_root else argv

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            self._argv(program, *args),
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )

    def start(self, timeout: float = 60) -> PostgresServer:
        self.folder = Path(tempfile.mkdtemp(prefix="vtex-postgres-"))
        if self.as_root:
            try:
                account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, PostgreSQL needs the '{SYSTEM_USER}' account to run under; {INSTALL_HINT}"
                ) from None
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",  # TCP on loopback only
            "max_connections": "200",  # every Airflow component keeps a pool
            # Thrown away after the test: durability only costs time on a shared machine.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        args = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
        self.process = ManagedProcess(
            "postgres",
            self._argv("postgres", "-D", str(self.data), *args),
            _environment(),
            self.folder / "postgres.log",
        )
        self.process.start()
        wait_for(
            "PostgreSQL to accept connections", self._ready, timeout, interval=0.2, alive=self._check_alive
        )
        return self

    @property
    def started(self) -> bool:
        return self.process is not None

    def _reach(self) -> list[str]:
        """A client program's arguments to reach this server."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", USER]

    def create_database(self, name: str, template: str | None = None, timeout: float = 30) -> None:
        """``CREATE DATABASE name`` (``TEMPLATE template``: a file copy of a migrated database, a fraction
        of a second). PostgreSQL refuses to copy a database someone is connected to; a template whose
        migration just ended may still be closing its connections, so that refusal is retried a while."""
        args = [*self._reach(), *(("-T", template) if template else ()), name]
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run("createdb", *args)
                return
            except RuntimeError as exc:
                if "is being accessed by other users" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.2)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE name WITH (FORCE)``: cuts the connections the deployment's killed processes may
        have left for the server to notice."""
        self._run("dropdb", *self._reach(), "--force", "--if-exists", name)

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-q"],
            env=_environment(),
            check=False,
        )
        return result.returncode == 0

    def _check_alive(self) -> None:
        if self.process is not None and not self.process.running():
            raise RuntimeError(f"postgres exited; its output:\n{self.process.log_tail()}")

    def stop(self) -> None:
        """Fast shutdown (open connections are cut), then whatever is left is killed; the folder goes."""
        leftovers: list[object] = []
        process, self.process = self.process, None
        if process is not None and process.popen is not None:
            if process.running():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._run(
                        "pg_ctl", "-D", str(self.data), "stop", "-m", "fast", "-w", "-t", "30", timeout=40
                    )
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.popen.wait(timeout=10)
            leftovers = describe(processes_in_sessions({process.pid}))
            process.stop(timeout=10)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        if leftovers:
            raise RuntimeError(
                f"PostgreSQL processes outlived a fast shutdown and had to be killed: {leftovers}"
            )


_shared: PostgresServer | None = None


def shared_server() -> PostgresServer:
    """This process's server: made (its port chosen) on first use, started by :meth:`PostgresServer.start`
    the first time a database is created on it, stopped by :func:`stop_shared_server` or at exit."""
    global _shared
    if _shared is None:
        _shared = PostgresServer()
        atexit.register(stop_shared_server)
    return _shared


def stop_shared_server() -> None:
    """Stop and delete this process's server, if one was made (see :meth:`PostgresServer.stop`)."""
    global _shared
    server, _shared = _shared, None
    if server is not None:
        server.stop()


def _environment() -> dict[str, str]:
    """A minimal environment: PostgreSQL needs no secrets, and no AIRFLOW_* marker must reach it."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
