"""Run the ``vtex-sandbox`` command line in a subprocess, as a user would, for the CLI tests."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunningCli:
    url: str
    banner: list[str]
    connection: dict[str, Any]
    stdout: str = field(default="")


@contextmanager
def running_cli(*args: str, banner_lines: int = 5) -> Iterator[RunningCli]:
    """Start the CLI, read its banner (URL, connection line), and on exit stop it with SIGTERM,
    checking that it ends cleanly (exit 0, "stopped" on stdout, nothing on stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_vtex.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("vtex-sandbox listening on "), first
        banner = [process.stdout.readline() for _ in range(banner_lines)]
        conn_line = next(line for line in banner if line.startswith("AIRFLOW_CONN_VTEX_DEFAULT="))
        cli = RunningCli(
            url=first.rsplit(" ", 1)[1].strip(),
            banner=banner,
            connection=json.loads(shlex.split(conn_line.split("=", 1)[1])[0]),
        )
        yield cli
        process.send_signal(signal.SIGTERM)
        cli.stdout, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert err == ""
    assert "vtex-sandbox stopped" in cli.stdout
