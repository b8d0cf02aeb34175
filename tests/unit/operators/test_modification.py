"""VtexOrderModificationOperator's decisions, its execute called directly against the sandbox: waiting in
the worker when not deferrable, bad input and orders VTEX does not modify failing at once without a request."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.operators.modification import VtexOrderModificationOperator
from tests.unit.operators.test_operator_decisions import context
from vtex_sandbox import VtexSandbox

HANDLING = "1172452900789-01"
STOCKOUT = {"reason": "ERP stockout 11", "remove": {"items": [{"id": "3105", "quantity": 1}]}}


def operator(**kwargs: Any) -> VtexOrderModificationOperator:
    arguments: dict[str, Any] = {
        "task_id": "modify",
        "order_id": HANDLING,
        "change": STOCKOUT,
        "deferrable": False,
    }
    return VtexOrderModificationOperator(**{**arguments, "poll_interval": 0.1, "timeout": 30, **kwargs})


@pytest.mark.vtex_sandbox(change_processing_seconds=0.3)
def test_without_deferral_it_waits_in_the_worker_until_the_request_is_done(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    result = operator().execute(context())

    assert (result["outcome"], result["status"]) == ("sent", "done")
    assert "3105" not in {i["id"] for i in vtex_sandbox_connection.order(HANDLING)["items"] if i["quantity"]}


def test_a_change_without_reason_fails_at_once_and_sends_nothing(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    with pytest.raises(AirflowFailException, match="reason"):
        operator(change={"remove": {"items": [{"id": "3105", "quantity": 1}]}}).execute(context())
    assert vtex_sandbox_connection.requests == []


@pytest.mark.parametrize("order_id", ["1172452900790-01", "1172452900788-01"])  # canceled, ready-for-handling
def test_an_order_vtex_does_not_modify_fails_at_once_naming_the_statuses(
    vtex_sandbox_connection: VtexSandbox, order_id: str
) -> None:
    with pytest.raises(AirflowFailException, match="handling"):
        operator(order_id=order_id).execute(context())
    assert not [
        r for r in vtex_sandbox_connection.requests if r["route"] in ("change_create", "change_preview")
    ]


def test_another_modification_in_progress_is_worth_a_retry(vtex_sandbox_connection: VtexSandbox) -> None:
    first = operator(wait_for_completion=False).execute(context())
    assert first["outcome"] == "sent"

    with pytest.raises(AirflowException, match="one at a time") as raised:
        operator(change={**STOCKOUT, "reason": "ERP stockout 12"}, wait_for_completion=False).execute(
            context()
        )

    assert not isinstance(raised.value, AirflowFailException)  # the task's retries apply
