"""The AppToken never leaks: DAG runs with a distinctive token, including failures and retries, and a
search of everything they left behind (task logs, process output, XCom, rendered template fields,
exception messages, the sandbox's request log)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.dag_runs import rendered_fields, task_states, xcom_values
from vtex_sandbox import Fault, VtexSandbox

TOKEN = "vtexAppToken-Zq81-DISTINCTIVE-4c2e"
pytestmark = pytest.mark.airflow_dag


def xcom_dump(dag_run: Any) -> str:
    from sqlalchemy import select

    try:  # Airflow 3: the table's model (XCom is the task SDK's accessor there)
        from airflow.models.xcom import XComModel as XCom
    except ImportError:  # Airflow 2.x
        from airflow.models.xcom import XCom
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            select(XCom.value).where(XCom.dag_id == dag_run.dag_id, XCom.run_id == dag_run.run_id)
        ).all()
    return json.dumps(rows, default=str)


def test_app_token_appears_nowhere(
    run_dag: Callable[..., Any], airflow_db: Path, monkeypatch: pytest.MonkeyPatch, capfd: Any, caplog: Any
) -> None:
    with VtexSandbox(app_token=TOKEN) as sandbox:
        spec = json.loads(sandbox.airflow_connection())
        spec["extra"].update({"timeout": 1, "max_retries": 2})
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(spec))
        # A lost answer (read-back, warnings), a 503 (waits logged) and a 401 (an error with VTEX's body).
        sandbox.add_fault(Fault("invoice", "drop_after_commit", count=1))
        sandbox.add_fault(Fault("get_order", "status", status=503, count=1))
        sandbox.add_fault(Fault("tracking_number", "status", status=401))
        dag_run = run_dag("vtex_fault_matrix", run_conf={"invoice_number": "NF-SECRET"})
        sandbox_log = json.dumps(sandbox.requests)
        authenticated = sandbox.count(method="GET", route="get_order", status=200)
    assert task_states(dag_run) == {"invoice": ["success"], "tracking": ["failed"]}
    assert authenticated >= 1  # the token was really used, and accepted
    output = capfd.readouterr()
    task_logs = "\n".join(
        p.read_text(errors="replace") for p in (airflow_db / "logs").rglob("*") if p.is_file()
    )
    places = {
        "stdout": output.out,
        "stderr": output.err,
        "python logging": caplog.text,
        "task log files": task_logs,
        "XCom": xcom_dump(dag_run),
        "rendered template fields": json.dumps(rendered_fields(dag_run), default=str),
        "sandbox request log": sandbox_log,
    }
    assert "401" in output.out + output.err + caplog.text + task_logs  # the failure was logged...
    for place, text in places.items():
        assert TOKEN not in text, f"the AppToken leaked into {place}"
        assert TOKEN[:16] not in text, f"part of the AppToken leaked into {place}"
    for place in ("stdout", "stderr", "python logging", "task log files"):
        assert "X-VTEX-API-AppToken" not in places[place], f"request headers were logged in {place}"


def test_a_vtex_answer_quoting_the_request_headers_leaks_the_token_nowhere(
    run_dag: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, capfd: Any, caplog: Any
) -> None:
    """VTEX (or a gateway before it) answers with an error that quotes the request's headers, AppToken
    included: the bulk task's per-invoice results (XCom ``results``), its failure message and the
    process output carry it scrubbed; the sandbox's admin routes never show it either."""
    import requests

    with VtexSandbox(app_token=TOKEN) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        sandbox.add_fault(Fault("invoice", "echo_headers"))
        dag_run = run_dag("vtex_test_bulk_partial")
        admin = "".join(
            requests.get(f"{sandbox.url}/_sandbox/{route}", timeout=5).text
            for route in ("requests", "stats", "faults", "orders")
        )
        echoed = sandbox.count(method="POST", route="invoice", status=400)
    assert echoed == 3  # the three invoices that passed validation met the echo
    assert task_states(dag_run)["bulk"] == ["failed"]
    results = xcom_values(dag_run, "bulk", "results")[0]
    quoting = [r for r in results if r["error"] and "X-VTEX-API-AppToken" in r["error"]]
    assert len(quoting) == 3, results  # the echo really reached the results...
    assert all("X-VTEX-API-AppToken: ***" in r["error"] for r in quoting)  # ...scrubbed
    output = capfd.readouterr()
    places = {
        "XCom": xcom_dump(dag_run),
        "stdout": output.out,
        "stderr": output.err,
        "python logging": caplog.text,
        "sandbox admin routes": admin,
    }
    for place, text in places.items():
        assert TOKEN not in text, f"the AppToken leaked into {place}"
        assert TOKEN[:16] not in text, f"part of the AppToken leaked into {place}"
