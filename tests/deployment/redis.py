"""A throwaway Redis server on a free loopback port: the Celery broker of the distributed test.

Nothing is persisted (no RDB snapshots, no append-only file); it lives in the test's folder and is
stopped with the test. Debian's ``redis-server`` is expected on PATH (``make test-distributed``
installs it when missing).
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from tests.deployment.processes import ManagedProcess, free_port, wait_for


class RedisServer:
    def __init__(self, folder: Path) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise FileNotFoundError(
                "redis-server is not installed: `make test-distributed` installs it (apt-get install redis-server)"
            )
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = [
            executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
        ]  # fmt: skip
        self.process = ManagedProcess("redis", argv, {}, folder / "redis.log")

    def start(self, timeout: float = 30) -> RedisServer:
        self.process.start()
        wait_for("redis-server to answer PING", self._pong, timeout, interval=0.1, alive=self._check_alive)
        return self

    def _check_alive(self) -> None:
        if not self.process.running():
            raise RuntimeError(f"redis-server exited; its output:\n{self.process.log_tail()}")

    def _pong(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        self.process.stop(timeout=10)
