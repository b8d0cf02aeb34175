"""VtexCancelOrderOperator's decisions, its execute called directly against the sandbox (the DAG runs are in
tests/integration/test_order_day.py)."""

from __future__ import annotations

import pytest

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.operators.cancel import VtexCancelOrderOperator
from tests.unit.operators.test_operator_decisions import context
from vtex_sandbox import VtexSandbox


def test_cancelling_an_invoiced_order_fails_at_once_pointing_to_a_return_invoice(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    vtex_sandbox_connection.add_order(
        "INV-03", [{"id": "1", "name": "x", "quantity": 1, "price": 100}], status="invoiced"
    )
    with pytest.raises(AirflowFailException, match="return invoice"):
        VtexCancelOrderOperator(task_id="cancel", order_id="INV-03").execute(context())
    assert not [r for r in vtex_sandbox_connection.requests if r["route"] == "cancel"]


def test_an_order_already_canceled_is_reported_and_nothing_is_sent(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    result = VtexCancelOrderOperator(task_id="cancel", order_id="1172452900790-01").execute(context())
    assert result == {"order_id": "1172452900790-01", "outcome": "already_applied", "status": "canceled"}
    assert not [r for r in vtex_sandbox_connection.requests if r["route"] == "cancel"]
