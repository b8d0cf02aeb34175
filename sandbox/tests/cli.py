"""Run the ``vtex-sandbox`` command line in a subprocess, as a user would, for the CLI tests."""

from __future__ import annotations

import json
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
    export_line: str
    connection: dict[str, Any]
    stdout: str = field(default="")


def exported_connection(export_line: str) -> dict[str, Any]:
    """What a shell makes of the banner's export line when it is pasted as is."""
    result = subprocess.run(
        ["bash", "-c", f'{export_line}\nprintf %s "$AIRFLOW_CONN_VTEX_DEFAULT"'],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    connection: dict[str, Any] = json.loads(result.stdout)
    return connection


@contextmanager
def running_cli(*args: str) -> Iterator[RunningCli]:
    """Start the CLI, read its banner (URL ... up to the admin line), and on exit stop it with SIGTERM,
    checking that it ends cleanly (exit 0, "stopped" on stdout, nothing on stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vtex_sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("vtex-sandbox listening on "), first
        banner: list[str] = []
        while not banner or not banner[-1].startswith("admin:"):
            line = process.stdout.readline()
            assert line, f"the banner ended early: {banner}"
            banner.append(line)
        export_line = next(line for line in banner if line.startswith("export AIRFLOW_CONN_VTEX_DEFAULT="))
        cli = RunningCli(
            url=first.rsplit(" ", 1)[1].strip(),
            banner=banner,
            export_line=export_line.strip(),
            connection=exported_connection(export_line),
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
