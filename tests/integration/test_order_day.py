"""The cancel and order modification operators in real Airflow DAG runs (``dag.test()``) against the
sandbox: templated values, XCom results, the deferral to the change-request trigger, and failures that
spend no retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.dag_runs import task_states, xcom_values

pytestmark = pytest.mark.airflow_dag
HANDLING = "1172452900789-01"


def test_cancel_operator_cancels_once(vtex_sandbox_connection: Any, run_dag: Callable[..., Any]) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_cancel", run_conf={"order_id": "1172452900791-01", "reason": "fraud"})

    assert task_states(dag_run) == {"cancel": ["success"]}
    assert xcom_values(dag_run, "cancel") == [
        {"order_id": "1172452900791-01", "outcome": "sent", "status": "canceled"}
    ]
    assert sandbox.order("1172452900791-01")["status"] == "canceled"


def test_cancel_operator_fails_an_invoiced_order_at_once_naming_the_return_invoice(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_order("INV-02", [{"id": "1", "name": "x", "quantity": 1, "price": 100}], status="invoiced")

    dag_run = run_dag("vtex_test_cancel", run_conf={"order_id": "INV-02"})

    assert task_states(dag_run) == {"cancel": ["failed"]}  # no retry spent: waiting changes nothing
    [ti] = dag_run.get_task_instances()
    assert ti.try_number == 1
    assert not [r for r in sandbox.requests if r["route"] == "cancel"]


@pytest.mark.vtex_sandbox(change_processing_seconds=1)
def test_modification_operator_applies_once_and_waits_in_the_triggerer(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    conf = {"order_id": HANDLING, "reason": "ERP stockout 7: SKU 3120", "sku": "3120"}

    dag_run = run_dag("vtex_test_modification", run_conf=conf)

    assert task_states(dag_run) == {"modify": ["success"]}
    [result] = xcom_values(dag_run, "modify")
    assert (result["outcome"], result["status"]) == ("sent", "done")
    # the request was still in progress when first read: the task deferred to the trigger meanwhile
    assert xcom_values(dag_run, "modify", key="change")[0]["change_request_id"] == result["change_request_id"]
    [preview] = xcom_values(dag_run, "modify", key="preview")
    assert preview["totalChangeValue"] == -3990
    assert "3120" not in {i["id"] for i in sandbox.order(HANDLING)["items"] if i["quantity"] > 0}
    # a second run with the same reason finds the change request and sends nothing
    again = run_dag("vtex_test_modification", run_conf=conf)
    [second] = xcom_values(again, "modify")
    assert (second["outcome"], second["change_request_id"]) == (
        "already_applied",
        result["change_request_id"],
    )
    assert sum(1 for r in sandbox.requests if r["route"] == "change_create") == 1


def test_modification_operator_stops_at_the_preview(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    before = sandbox.order(HANDLING)

    dag_run = run_dag("vtex_test_modification_preview", run_conf={"order_id": HANDLING})

    assert xcom_values(dag_run, "preview")[0]["outcome"] == "previewed"
    assert xcom_values(dag_run, "preview", key="preview")[0]["totalChangeValue"] == -3990
    assert sandbox.order(HANDLING) == before


def test_modification_operator_refuses_an_order_vtex_does_not_modify(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    conf = {"order_id": "1172452900790-01", "reason": "x", "sku": "5002"}  # canceled
    dag_run = run_dag("vtex_test_modification", run_conf=conf)
    assert task_states(dag_run) == {"modify": ["failed"]}
    [ti] = dag_run.get_task_instances()
    assert ti.try_number == 1
