"""VtexStartHandlingOperator against the sandbox: the request budget a backlog drains within."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest import mock

from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator


def test_a_backlog_is_started_within_the_stated_request_budget(vtex_sandbox_connection: Any) -> None:
    """25 ready orders cost 50 requests (a read, then the call, for each); with a cap of 10 a second, no
    second at VTEX sees more than 10 of them, and every order is started once."""
    sandbox = vtex_sandbox_connection
    ids = [f"BUDGET{n:03d}-01" for n in range(25)]
    for order_id in ids:
        sandbox.place_order(order_id, status="payment-approved")
        sandbox.move_order(order_id, "ready-for-handling")
    before = sandbox.stats()["requests"]  # placing orders goes through the admin API: not logged
    operator = VtexStartHandlingOperator(task_id="start", order_ids=ids, max_requests_per_second=10)
    # a stand-in for the task instance (the context's "ti" is typed as Airflow's runtime task instance)
    results = operator.execute({"ti": SimpleNamespace(try_number=1, xcom_push=mock.Mock())})  # type: ignore[typeddict-item]
    assert [r["outcome"] for r in results] == ["started"] * len(ids)
    load = sandbox.stats()
    assert load["requests"] - before == 2 * len(ids)
    assert load["busiestSecond"]["count"] <= 10
    assert all(sandbox.timeline(order_id)["startHandling"]["calls"] == 1 for order_id in ids)
