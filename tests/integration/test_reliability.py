"""Never double-invoice, never lose a notification: the fault matrix and the retry guards, in real
Airflow (``dag.test()``, real task retries) against the sandbox over real HTTP.

Each fault scenario runs the invoice and tracking tasks of ``vtex_fault_matrix`` and asserts the task
outcomes, how many POSTs the sandbox received, that it holds exactly one invoice (none for an unknown
order), and that the tracking calls (PATCH, PUT) were applied exactly as sent. ``make fault-matrix``
writes the scenarios as a table of docs/fault-matrix.md (see tests/fault_report.py); the crashes of a
real deployment are in tests/deployment/.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests import fault_report
from tests.integration.dag_runs import task_states, xcom_values
from vtex_sandbox import Fault

pytestmark = pytest.mark.airflow_dag
ORDER = "70caf3941s6df1"
#: What vtex_fault_matrix's tracking task sends: VTEX must hold exactly this afterwards.
TRACKING_EVENTS = [
    {"city": "Rio", "state": "RJ", "description": "Entregue", "createDate": "2024-03-03T00:00:00.0000000Z"}
]


@pytest.fixture
def sandbox(vtex_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sandbox, with ``vtex_default`` pointing at it: 1 s timeout, 3 retries per request."""
    spec = json.loads(vtex_sandbox.airflow_connection())
    spec["extra"].update({"timeout": 1, "max_retries": 3})
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(spec))
    return vtex_sandbox


@dataclass
class Scenario:
    name: str
    faults: list[Fault]
    invoice: str  # expected final state of the invoice task
    tracking: str
    posts: int  # POSTs the sandbox receives, faulted ones included
    held: int = 1  # invoices the sandbox holds for the order afterwards
    order_id: str = ORDER
    tries: int = 1  # attempts of the invoice task
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


SCENARIOS = [
    Scenario(
        "429 storm with Retry-After",
        # On the POST: the read before sending (check_existing="always", the default) would meet a "*" storm.
        [Fault("invoice", "rate_limit", count=3, retry_after=1)],
        "success",
        "success",
        posts=4,
        why="waits Retry-After (1 s) each time, then sends; 429 means VTEX did nothing",
    ),
    Scenario(
        "503 burst (circuit breaker)",
        [Fault("get_order", "status", status=503, count=2), Fault("invoice", "status", status=503, count=1)],
        "success",
        "success",
        posts=2,
        why="reads retry the 503s; the POST's 503 may follow a commit: reads the order back, finds no invoice, "
        "sends once more",
    ),
    Scenario(
        "500 after the write was committed",
        [Fault("invoice", "error_after_commit", count=1)],
        "success",
        "success",
        posts=1,
        why="outcome unknown: reads the order back, finds the invoice, does not resend",
    ),
    Scenario(
        "connection dropped after commit",
        [Fault("invoice", "drop_after_commit", count=1)],
        "success",
        "success",
        posts=1,
        why="outcome unknown: reads the order back, finds the invoice, does not resend",
    ),
    Scenario(
        "read timeout on a slow server",
        [Fault("invoice", "latency", latency=2.0, count=1)],
        "success",
        "success",
        posts=1,
        why="the 1 s timeout fires before VTEX commits at 2 s; the read-back polls until it shows",
    ),
    Scenario(
        "HTML error page (502)",
        [Fault("invoice", "html", status=502, count=1)],
        "success",
        "success",
        posts=2,
        why="502 may hide a commit: the read-back shows no invoice, so it is sent once more",
    ),
    Scenario(
        "dropped after commit, read-back down too: Airflow retry",
        [Fault("invoice", "drop_after_commit", count=1), Fault("get_order", "status", status=503, count=4)],
        "success",
        "success",
        posts=1,
        tries=2,
        why="nothing re-sent blindly; the task retry reads the order first and finds the invoice",
    ),
    Scenario(
        "401 mid-run (token revoked after invoicing)",
        [Fault("tracking_number", "status", status=401)],
        "success",
        "failed",
        posts=1,
        why="the tracking task fails at once (AirflowFailException), no retries spent; invoice kept",
    ),
    Scenario(
        "tracking PATCH and PUT answered 500 after VTEX applied them",
        [
            Fault("tracking_number", "error_after_commit", count=1),
            Fault("tracking_status", "error_after_commit", count=1),
        ],
        "success",
        "success",
        posts=1,
        why="PATCH/PUT are idempotent: sent again, VTEX holds the tracking exactly as sent",
    ),
    Scenario(
        "tracking PATCH and PUT dropped after VTEX applied them",
        [
            Fault("tracking_number", "drop_after_commit", count=1),
            Fault("tracking_status", "drop_after_commit", count=1),
        ],
        "success",
        "success",
        posts=1,
        why="PATCH/PUT are idempotent: sent again, VTEX holds the tracking exactly as sent",
    ),
    Scenario(
        "429 storm on the tracking PATCH and PUT",
        [
            Fault("tracking_number", "rate_limit", count=3, retry_after=0),
            Fault("tracking_status", "rate_limit", count=3, retry_after=0),
        ],
        "success",
        "success",
        posts=1,
        why="waits out each 429 and sends again; VTEX holds the tracking exactly as sent",
    ),
    Scenario(
        "unknown order",
        [],
        "failed",
        "upstream_failed",
        posts=1,
        held=0,
        order_id="no-such-order",
        why="404 fails the invoice task at once; nothing to hold",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fault_matrix(sandbox: Any, run_dag: Callable[..., Any], scenario: Scenario) -> None:
    for fault in scenario.faults:
        sandbox.add_fault(fault)
    number = "NF-FM-" + str(SCENARIOS.index(scenario))
    dag_run = run_dag("vtex_fault_matrix", run_conf={"order_id": scenario.order_id, "invoice_number": number})
    states = task_states(dag_run)
    posts = sandbox.post_count(scenario.order_id)
    held = [p for p in sandbox.invoices(scenario.order_id)] if scenario.held else []
    tries = dag_run.get_task_instance("invoice").try_number
    fault_report.record(
        "faults",
        {
            "fault": scenario.name,
            "invoice task": f"{states['invoice'][0]} (try {tries})",
            "tracking task": states["tracking"][0],
            "POSTs received": posts,
            "invoices held": len(held),
            "duplicates": max(0, len(held) - 1),
            "lost": int(scenario.held == 1 and not held),
            "why": scenario.why,
        },
    )
    assert states == {"invoice": [scenario.invoice], "tracking": [scenario.tracking]}
    assert posts == scenario.posts
    assert tries == scenario.tries
    assert len(held) == scenario.held
    if held:
        (package,) = held
        assert package["invoiceNumber"] == number
        assert len(package["receipts"]) == 1 or scenario.posts > 1
        if scenario.tracking == "success":
            assert (package["trackingNumber"], package["courier"]) == ("BR-FM-1", "Correios")
            status = package["courierStatus"]
            assert (status["finished"], status["deliveredDate"]) == (True, "2024-03-03T12:00:00.0000000Z")
            assert [
                {key: event[key] for key in ("city", "state", "description", "createDate")}
                for event in status["data"]
            ] == TRACKING_EVENTS


def test_invoice_already_in_vtex_is_skipped_failed_or_resent_as_asked(
    sandbox: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox.state.invoice(
        ORDER,
        {
            "type": "Output",
            "invoiceNumber": "NF-HELD",
            "invoiceValue": "7497",
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        },
    )
    dag_run = run_dag("vtex_test_if_already_invoiced")
    states = task_states(dag_run)
    assert states == {"invoice_skip": ["success"], "invoice_fail": ["failed"], "invoice_resend": ["success"]}
    assert dag_run.get_task_instance("invoice_fail").try_number == 1
    assert xcom_values(dag_run, "invoice_skip")[0]["outcome"] == "already_invoiced"
    assert xcom_values(dag_run, "invoice_resend")[0]["outcome"] == "sent"
    assert sandbox.post_count(ORDER) == 1  # only the deliberate resend
    (package,) = sandbox.invoices(ORDER)
    assert len(package["receipts"]) == 2  # the first send, then the deliberate new receipt


def test_wait_for_confirmation_polls_until_the_invoice_shows(
    run_dag: Callable[..., Any], monkeypatch: Any
) -> None:
    from vtex_sandbox import VtexSandbox

    with VtexSandbox(invoice_visibility_delay=1.5) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        dag_run = run_dag("vtex_test_confirmation")
        assert task_states(dag_run)["invoice"] == ["success"]
        gets = sandbox.count(method="GET", route="get_order")
    assert gets >= 2  # at least one read before the invoice became visible


@pytest.mark.parametrize(
    "dag_id",
    [
        "vtex_test_order_status_sensor",
        "vtex_test_order_status_sensor_reschedule",
        "vtex_test_order_status_sensor_deferrable",
    ],
)
def test_sensor_succeeds_once_the_order_is_ready(
    sandbox: Any, run_dag: Callable[..., Any], dag_id: str
) -> None:
    sandbox.set_status(ORDER, "payment-pending")
    done = threading.Event()

    def approve_after_first_check() -> None:  # VTEX approves the payment once the sensor has looked once
        while not done.is_set() and sandbox.count(method="GET", route="get_order") < 1:
            time.sleep(0.05)
        sandbox.set_status(ORDER, "ready-for-handling")

    approver = threading.Thread(target=approve_after_first_check, daemon=True)
    approver.start()
    try:
        dag_run = run_dag(dag_id)
    finally:
        done.set()
        approver.join()
    assert task_states(dag_run)["wait"] == ["success"]
    assert xcom_values(dag_run, "wait") == ["ready-for-handling"]
    assert sandbox.count(method="GET", route="get_order") >= 2


@pytest.mark.parametrize("order_id", ["1172452900790-01", "no-such-order"], ids=["canceled", "unknown"])
def test_sensor_fails_at_once_on_canceled_or_unknown_orders(
    sandbox: Any, run_dag: Callable[..., Any], order_id: str
) -> None:
    dag_run = run_dag("vtex_test_order_status_sensor", run_conf={"order_id": order_id})
    assert task_states(dag_run)["wait"] == ["failed"]
    assert sandbox.count(method="GET", route="get_order") == 1
