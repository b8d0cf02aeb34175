"""Order modifications through VtexHook over real HTTP against the sandbox: preview without effect, apply
once per reason (read first, read back after a lost answer), follow, retry and cancel a change request,
and the account's settings."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_vtex.exceptions import (
    VtexConflictError,
    VtexConnectionConfigError,
    VtexOutcomeUnknownError,
    VtexPayloadError,
    VtexStatusNotAllowedError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Outcome
from vtex_sandbox import Fault, VtexSandbox

HANDLING = "1172452900789-01"  # seeded in handling: SKUs 3105, 3120 and 2001, one unit each
STOCKOUT = {
    "reason": "ERP stockout 1: SKU 3120 unavailable",
    "remove": {"items": [{"id": "3120", "quantity": 1}]},
}


def hook() -> VtexHook:
    return VtexHook(backoff_initial=0.01, readback_timeout=2, readback_interval=0.2, max_retries=2)


def patches(sandbox: VtexSandbox) -> int:
    return sum(1 for r in sandbox.requests if r["route"] == "change_create")


def skus(sandbox: VtexSandbox, order_id: str = HANDLING) -> dict[str, int]:
    return {str(i["id"]): int(i["quantity"]) for i in sandbox.order(order_id)["items"]}


def test_a_preview_answers_the_new_totals_and_changes_nothing(vtex_sandbox_connection: VtexSandbox) -> None:
    before = vtex_sandbox_connection.order(HANDLING)

    preview = hook().preview_change(HANDLING, STOCKOUT)

    assert preview["totalChangeValue"] == -3990
    assert vtex_sandbox_connection.order(HANDLING) == before
    assert hook().list_changes(HANDLING) == []


def test_a_modification_is_applied_once_and_followed_until_done(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    value_before = sandbox.order(HANDLING)["value"]

    result = hook().create_change(HANDLING, STOCKOUT)

    assert result.outcome is Outcome.SENT
    assert result.change_request_id
    assert hook().get_change(HANDLING, result.change_request_id)["status"] == "waiting-acknowledgement"
    sandbox.advance_clock(10)
    change = hook().get_change(HANDLING, result.change_request_id)
    assert (change["status"], change["inProgress"]) == ("done", False)
    assert "3120" not in skus(sandbox) or skus(sandbox)["3120"] == 0
    assert sandbox.order(HANDLING)["value"] == value_before - 3990
    # a re-run with the same reason finds it and sends nothing
    again = hook().create_change(HANDLING, STOCKOUT)
    assert (again.outcome, again.change_request_id) == (Outcome.ALREADY_APPLIED, result.change_request_id)
    assert patches(sandbox) == 1
    assert [r["requestId"] for r in hook().list_changes(HANDLING)] == [result.change_request_id]
    summary = hook().get_change_summary(HANDLING)
    assert [(i["id"], i["quantity"]) for i in summary["removed"]] == [("3120", 1)]


def test_a_lost_answer_is_settled_by_reading_the_history_back_not_by_sending_again(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_fault(Fault("change_create", "drop_after_commit", count=1))

    result = hook().create_change(HANDLING, STOCKOUT)

    assert result.outcome is Outcome.CONFIRMED_BY_READ_BACK
    assert result.change_request_id == hook().list_changes(HANDLING)[0]["requestId"]
    assert patches(sandbox) == 1


def test_a_lost_answer_whose_history_cannot_be_read_sends_nothing_again(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_fault(Fault("change_create", "drop_after_commit", count=1))
    sandbox.add_fault(Fault("change_history", "status", status=503))

    with pytest.raises(VtexOutcomeUnknownError) as unknown:
        hook().create_change(HANDLING, STOCKOUT, check_first=False)

    assert unknown.value.retryable
    assert patches(sandbox) == 1


def test_a_patch_that_never_reached_vtex_is_sent_again_after_the_visibility_window(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_fault(Fault("change_create", "status", status=503, count=1))  # refused before applying

    result = hook().create_change(HANDLING, STOCKOUT)

    assert result.outcome is Outcome.SENT
    assert len(hook().list_changes(HANDLING)) == 1
    assert patches(sandbox) == 2


def test_an_order_vtex_does_not_modify_now_is_a_conflict(vtex_sandbox_connection: VtexSandbox) -> None:
    with pytest.raises(VtexConflictError):
        hook().create_change("1172452900790-01", STOCKOUT)  # canceled


def test_a_modification_without_a_change_or_reason_fails_before_any_request(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    with pytest.raises(VtexPayloadError) as bad:
        hook().create_change(HANDLING, {"remove": {"items": [{"id": "3120", "quantity": 0}]}})
    assert "reason" in str(bad.value)
    assert "remove.items.0.quantity" in str(bad.value)
    with pytest.raises(VtexPayloadError, match="changes nothing"):
        hook().preview_change(HANDLING, {"reason": "x"})
    with pytest.raises(VtexPayloadError, match="changeRequestId"):
        hook().get_change(HANDLING, "../../x")
    assert vtex_sandbox_connection.requests == []


def test_a_stopped_request_is_retried_or_canceled_once(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    first = hook().create_change(HANDLING, STOCKOUT)
    assert first.change_request_id
    sandbox.fail_changes(HANDLING)
    sandbox.advance_clock(10)
    assert hook().get_change(HANDLING, first.change_request_id)["status"] == "error"

    hook().retry_change(HANDLING, first.change_request_id, STOCKOUT)
    sandbox.advance_clock(10)
    assert hook().get_change(HANDLING, first.change_request_id)["status"] == "done"
    with pytest.raises(VtexStatusNotAllowedError, match="new modification"):
        hook().cancel_change(HANDLING, first.change_request_id, "no longer needed")

    second = hook().create_change(HANDLING, {**STOCKOUT, "reason": "ERP stockout 2"} | _remove("3105"))
    assert second.change_request_id
    sandbox.fail_changes(HANDLING)
    sandbox.advance_clock(10)
    sandbox.add_fault(Fault("change_cancel", "drop_after_commit", count=1))
    assert (
        hook().cancel_change(HANDLING, second.change_request_id, "ERP found it")
        is Outcome.CONFIRMED_BY_READ_BACK
    )
    assert hook().cancel_change(HANDLING, second.change_request_id, "ERP found it") is Outcome.ALREADY_APPLIED
    assert hook().get_change(HANDLING, second.change_request_id)["status"] == "canceled"


def _remove(sku: str) -> dict[str, Any]:
    return {"remove": {"items": [{"id": sku, "quantity": 1}]}}


def test_settings_are_read_and_replaced(vtex_sandbox_connection: VtexSandbox) -> None:
    settings = {"pipelineConfiguration": {"enablePromotionRecalculation": True}}

    hook().set_change_settings(settings)

    assert hook().get_change_settings()["pipelineConfiguration"]["enablePromotionRecalculation"] is True
    with pytest.raises(VtexPayloadError, match="enablePromotionRecalculation"):
        hook().set_change_settings({"pipelineConfiguration": {"enablePromotionRecalcuation": True}})


def test_the_modification_routes_need_the_account_name(
    vtex_sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    connection = json.loads(vtex_sandbox.airflow_connection())
    connection.pop("host")
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(connection))
    with pytest.raises(VtexConnectionConfigError, match="account name"):
        hook().list_changes(HANDLING)


def test_settings_and_retries_repeated_after_a_lost_answer_leave_one_effect(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_fault(Fault("change_settings", "drop_after_commit", count=1))
    hook().set_change_settings({"pipelineConfiguration": {"compensateShippingChanges": True}})
    assert hook().get_change_settings()["pipelineConfiguration"]["compensateShippingChanges"] is True

    first = hook().create_change(HANDLING, STOCKOUT)
    assert first.change_request_id
    sandbox.fail_changes(HANDLING)
    sandbox.advance_clock(10)
    sandbox.add_fault(Fault("change_retry", "drop_after_commit", count=1))
    hook().retry_change(HANDLING, first.change_request_id, STOCKOUT)  # sent again: the same request
    sandbox.advance_clock(10)
    assert hook().get_change(HANDLING, first.change_request_id)["status"] == "done"
    assert len(hook().list_changes(HANDLING)) == 1
    assert skus(sandbox).get("3120", 0) == 0
