"""Long-running processes of a test deployment: each started in a session of its own, killed with all
it forked, and accounted for, so a failing test leaves nothing behind.

Why sessions, not process groups: an Airflow component forks helpers (uvicorn workers, LocalExecutor
workers, task supervisors), and a supervisor puts each task process in a process group of its own
(``setpgid``) and retitles it (``setproctitle``, which also overwrites what ``/proc/PID/environ``
shows). The session survives all that: every process a component forks stays in the component's
session unless it calls ``setsid``, and those are still found by the marker in their environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    what: str,
    # ``...``: callers bind loop variables as lambda defaults (``lambda n=n: ...``), which mypy cannot
    # infer against a Callable of no arguments; ``check`` is called with none.
    check: Callable[..., T | None],
    timeout: float,
    interval: float = 0.5,
    alive: Callable[[], None] | None = None,
) -> T:
    """Poll ``check`` until it returns something truthy and return it.

    ``alive`` is called before each poll and should raise when waiting is pointless (a component died);
    after ``timeout`` seconds a ``TimeoutError`` names ``what`` and the last error ``check`` raised.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if alive is not None:
            alive()
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - any failure here means "not yet"; kept for the message
            last_error = exc
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})"
            )
        time.sleep(interval)


class ManagedProcess:
    """One command run in its own process group, its output in a log file, restartable."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts + 1}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so signals reach what it forks
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the component and everything in its session at once, as a crashed machine would: no
        clean-up code runs, and task processes die with their worker."""
        if self.popen is None:
            return
        kill_pids([*processes_in_sessions({self.popen.pid}), self.popen.pid])
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self, timeout: float) -> None:
        """SIGTERM the component's process group (a clean shutdown), then SIGKILL whatever is left in its
        session after ``timeout`` seconds."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_text(errors="replace")[-chars:]


def processes_in_sessions(sessions: set[int], marker: str | None = None) -> list[int]:
    """Live PIDs (zombies excepted) in one of ``sessions``, or whose environment holds ``marker``
    (``NAME=value``); never this test process."""
    wanted = marker.encode() if marker else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z":
                continue
            if int(fields[3]) in sessions or (
                wanted is not None and wanted in (entry / "environ").read_bytes().split(b"\0")
            ):
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def processes_titled(prefix: str, among: list[int]) -> list[int]:
    """The PIDs of ``among`` whose command line (as ``setproctitle`` set it) starts with ``prefix``."""
    found = []
    for pid in among:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith(prefix):
            found.append(pid)
    return found


def kill_pids(pids: list[int], signum: int = signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def describe(pids: list[int]) -> list[Any]:
    """``(pid, command line)`` pairs, for a failure message about stray processes."""
    described = []
    for pid in pids:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            title = "(gone)"
        described.append((pid, title.strip()))
    return described
