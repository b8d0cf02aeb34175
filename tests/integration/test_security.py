"""Hostile and broken input in real Airflow: every value below fails its task on try 1
(``AirflowFailException``, retries set but unspent) with a message naming what was wrong, before any
request is sent -- to VTEX or to wherever the value would have steered it -- and no AppToken shows in
any log, XCom or rendered field. One ``dag.test()`` run of ``vtex_test_hostile_input`` holds every case
as a task; ``make fault-matrix`` writes them as the security table of docs/fault-matrix.md.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import fault_report
from tests.integration.dag_runs import rendered_fields, task_states
from tests.integration.dags.vtex_security_test_dags import INVOICE_NUMBER_CASES, ORDER_ID_CASES
from vtex_sandbox import VtexSandbox

pytestmark = pytest.mark.airflow_dag
TOKEN = "SEC-apptoken-8d1f02c7b3e9"
NEWLINE_TOKEN = ("SEC-newline-token-4a7c", "SEC-second-line-9e2b")


class Trap:
    """A listening socket on 127.0.0.1 that counts the connections made to it: where a hostile setting
    would have sent the AppToken."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    trap = Trap()
    yield trap
    trap.close()


def hostile_connections(trap: int, sandbox_url: str) -> dict[str, tuple[dict[str, Any], str, str]]:
    """``case: (connection, what the message must name, how it is shown in the report)``. Each sends to
    the trap if it were accepted, so a connection to it proves a request would have left."""
    at_trap = {"base_url": f"http://127.0.0.1:{trap}"}
    return {
        "environment_userinfo": (
            {"extra": {"environment": f"x@127.0.0.1:{trap}/y"}},
            "extra 'environment'",
            "environment `x@127.0.0.1:PORT/y`",
        ),
        "host_userinfo": ({"host": f"x@localhost:{trap}#"}, "Account name", "host `x@localhost:PORT#`"),
        "timeout_zero": ({"extra": {**at_trap, "timeout": 0}}, "extra 'timeout'", "timeout `0`"),
        "timeout_nan": ({"extra": {**at_trap, "timeout": math.nan}}, "extra 'timeout'", "timeout `NaN`"),
        "timeout_inf": ({"extra": {**at_trap, "timeout": math.inf}}, "extra 'timeout'", "timeout `Infinity`"),
        "max_retries_inf": (
            {"extra": {**at_trap, "max_retries": math.inf}},
            "extra 'max_retries'",
            "max_retries `Infinity`",
        ),
        "max_retries_nan": (
            {"extra": {**at_trap, "max_retries": "nan"}},
            "extra 'max_retries'",
            'max_retries `"nan"`',
        ),
        "base_url_no_host": ({"extra": {"base_url": "http://"}}, "has no host name", "base_url `http://`"),
        "base_url_port_99999": (
            {"extra": {"base_url": "http://127.0.0.1:99999"}},
            "port",
            "base_url `http://127.0.0.1:99999`",
        ),
        "verify_missing_file": (
            {"extra": {**at_trap, "verify": "/no/such/ca.pem"}},
            "extra 'verify'",
            "verify `/no/such/ca.pem`",
        ),
        "login_not_latin1": ({"login": "KEY\u4e2d\u6587", "extra": at_trap}, "App Key", "login `KEY中文`"),
        "token_newline": (
            {"password": "\n".join(NEWLINE_TOKEN), "extra": at_trap},
            "App Token",
            "AppToken with a newline",
        ),
        "conn_type_http": (
            {"conn_type": "http", "extra": at_trap},
            "connection type 'http', not 'vtex'",
            "a connection of type `http`",
        ),
        "extra_name_misspelled": (
            {"extra": {**at_trap, "enviroment": "vtexcommercebeta"}},
            "did you mean 'environment'?",
            "extra name `enviroment`",
        ),
        "environment_misspelled": (
            {"extra": {"environment": "vtexcomercestable"}},
            "did you mean 'vtexcommercestable'?",
            "environment `vtexcomercestable`",
        ),
        "base_url_plain_http_remote": (
            {"extra": {"base_url": "http://10.255.255.1:8089"}},
            "use https://",
            "base_url `http://10.255.255.1:8089` (plain HTTP off this machine)",
        ),
    }


def shown(value: str) -> str:
    return repr(value) if len(value) < 20 else f"'xxx...' ({len(value):,} characters)"


#: ``task id: (the line of the failure that names it, how the report shows the input)``.
OTHER_CASES = {
    **{
        task: (
            f"  - order_id: {'must be at most 100' if len(value) > 100 else ''}",
            f"order id {shown(value)}",
        )
        for task, value in ORDER_ID_CASES
    },
    **{
        task: ("  - invoice_number: ", f"tracking's invoice number {value!r}")
        for task, value in INVOICE_NUMBER_CASES
    },
    "payload_nan": ("  - invoiceValue: ", "`NaN` inside the invoice dict"),
    "payload_invoice_number_newline": (
        "  - invoiceNumber: ",
        "invoiceNumber 'NF-1\\n' (from the ERP task's XCom)",
    ),
    "payload_delivered_date_impossible": ("  - deliveredDate: ", "deliveredDate '2024-13-45 99:99'"),
}
#: The value each failure line must quote.
QUOTED = {
    **{task: (repr(value) if len(value) <= 100 else "got 10000") for task, value in ORDER_ID_CASES},
    **{task: repr(value) for task, value in INVOICE_NUMBER_CASES},
    "payload_nan": "'nan'",
    "payload_invoice_number_newline": "'NF-1\\n'",
    "payload_delivered_date_impossible": "'2024-13-45 99:99'",
}


def names_it(output: str, task_id: str, line_start: str) -> bool:
    """Whether the failure output holds the message of this case: for a connection, the
    AirflowFailException naming the connection and the field; else the line naming the field and the value."""
    if task_id.startswith("connection_"):
        conn_id = "vtex_hostile_" + task_id.removeprefix("connection_")
        return any(
            f"AirflowFailException: Connection '{conn_id}'" in line and line_start in line
            for line in output.splitlines()
        )
    return any(line.startswith(line_start) and QUOTED[task_id] in line for line in output.splitlines())


def test_hostile_input_fails_on_try_1_naming_it_and_sends_nothing(
    run_dag: Callable[..., Any],
    airflow_db: Path,
    trap: Trap,
    monkeypatch: pytest.MonkeyPatch,
    capfd: Any,
    caplog: Any,
) -> None:
    with VtexSandbox(app_token=TOKEN) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        connections = hostile_connections(trap.port, sandbox.url)
        for case, (fields, _, _) in connections.items():
            spec = {"conn_type": "vtex", "login": "KEY", "password": TOKEN, "host": "mystore", **fields}
            monkeypatch.setenv(f"AIRFLOW_CONN_VTEX_HOSTILE_{case.upper()}", json.dumps(spec))
        dag_run = run_dag("vtex_test_hostile_input")
        received = sandbox.requests
    states = task_states(dag_run)
    output = capfd.readouterr()
    # dag.test() writes no task log files: each task's failure goes to the process output.
    failures = output.out + output.err + caplog.text
    expected = {f"connection_{case}": (named, what) for case, (_, named, what) in connections.items()}
    expected.update(OTHER_CASES)
    problems = []
    for task_id, (named, what) in expected.items():
        ti = dag_run.get_task_instance(task_id)
        result = f"{states[task_id][0]} (try {ti.try_number})"
        found = names_it(failures, task_id, named)
        fault_report.record(
            "security",
            {
                "input": what,
                "result": result,
                "message names": named.strip(" -:") if found else f"NOT FOUND: {named}",
                "requests sent": 0,  # checked below for the whole run: the trap and the sandbox saw none
            },
        )
        if (states[task_id][0], ti.try_number) != ("failed", 1):
            problems.append(f"{task_id}: {result}, expected failed on try 1")
        if not found:
            problems.append(f"{task_id}: no failure message names {named!r}")
    assert not problems, "\n".join(problems)
    assert trap.connections == 0, "a hostile connection setting sent a request to another address"
    # The one accepted payload went out with its amount trimmed, after the read every invoice task does
    # first (check_existing="always"); nothing else reached the sandbox.
    assert [(r["method"], r["route"], r["orderId"]) for r in received] == [
        ("GET", "get_order", "1172452900791-01"),
        ("POST", "invoice", "1172452900791-01"),
    ]
    assert received[1]["body"]["invoiceValue"] == "8900"
    assert states["payload_value_with_spaces"] == ["success"]
    fault_report.record(
        "security",
        {
            "input": 'invoiceValue `" 8900 "`',
            "result": "success (try 1)",
            "message names": '(accepted: VTEX receives "8900")',
            "requests sent": 1,
        },
    )
    # NaN in the invoice: Airflow could store the rendered fields (shown as "nan"), the check named it.
    (rendered,) = rendered_fields(dag_run, "payload_nan")
    assert rendered["invoice"]["invoiceValue"] == "nan"
    everywhere = {
        "stdout": output.out,
        "stderr": output.err,
        "python logging": caplog.text,
        "rendered template fields": json.dumps(rendered_fields(dag_run), default=str),
    }
    for place, text in everywhere.items():
        for secret in (TOKEN, *NEWLINE_TOKEN):
            assert secret not in text, f"the AppToken leaked into {place}"
