"""Fast unit tests of what the task classes decide, with the hook's methods patched: which arguments reach
the hook on a first try and on a retry, how outcomes reach XCom, and which errors fail the task at once.

End-to-end behaviour (what VTEX ends up holding, real retries) is proven against the sandbox in real
Airflow in test_operators, test_bulk and test_reliability.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.exceptions import (
    VtexConflictError,
    VtexInvoiceAlreadySentError,
    VtexOutcomeUnknownError,
    VtexServerError,
    VtexUnsupportedError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import InvoiceResult, Outcome
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

ORDER = "1172452900788-01"


def context(try_number: int = 1) -> Any:
    return {"ti": SimpleNamespace(try_number=try_number, xcom_push=mock.Mock())}


@pytest.fixture(autouse=True)
def _connection(vtex_connection: Callable[..., str]) -> None:
    vtex_connection()


def invoice_operator(**kwargs: Any) -> InvoiceNotificationOperator:
    return InvoiceNotificationOperator(
        task_id="invoice", order_id=ORDER, invoice={"any": "payload"}, **kwargs
    )


# ---------------------------------------------------------------- InvoiceNotificationOperator
def test_a_first_try_sends_without_reading_first() -> None:
    with mock.patch.object(
        VtexHook, "send_invoice", return_value=InvoiceResult(ORDER, "NF-1", Outcome.SENT, "r", "d")
    ) as send:
        assert invoice_operator().execute(context(1)) == {
            "order_id": ORDER,
            "invoice_number": "NF-1",
            "outcome": "sent",
            "receipt": "r",
            "date": "d",
        }
    kwargs = send.call_args.kwargs
    assert (kwargs["check_first"], kwargs["maybe_sent_at"], kwargs["if_already_invoiced"]) == (
        False,
        None,
        "skip",
    )


def test_a_retry_reads_first_and_waits_out_the_window_since_it_began() -> None:
    before = dt.datetime.now(dt.timezone.utc)
    with mock.patch.object(
        VtexHook, "send_invoice", return_value=InvoiceResult(ORDER, "NF-1", Outcome.ALREADY_INVOICED)
    ) as send:
        assert (
            invoice_operator(if_already_invoiced="fail").execute(context(2))["outcome"] == "already_invoiced"
        )
    kwargs = send.call_args.kwargs
    assert kwargs["check_first"] is True
    assert kwargs["if_already_invoiced"] == "fail"
    assert before <= kwargs["maybe_sent_at"] <= dt.datetime.now(dt.timezone.utc)


def test_check_existing_always_reads_first_on_a_first_try_without_waiting() -> None:
    with mock.patch.object(
        VtexHook, "send_invoice", return_value=InvoiceResult(ORDER, "NF-1", Outcome.SENT)
    ) as send:
        invoice_operator(check_existing="always").execute(context(1))
    assert (send.call_args.kwargs["check_first"], send.call_args.kwargs["maybe_sent_at"]) == (True, None)


@pytest.mark.parametrize(
    ("error", "fails_at_once"),
    [
        (VtexInvoiceAlreadySentError("held", order_id=ORDER, invoice_number="NF-1"), True),
        (VtexConflictError("409", http_status=409, method="POST", path="/x"), True),
        (VtexUnsupportedError("no route"), True),
        (VtexServerError("503", http_status=503, method="POST", path="/x"), False),
        (VtexOutcomeUnknownError("unknown", order_id=ORDER, what="invoice"), False),
    ],
    ids=["already-sent", "conflict", "unsupported", "server-error", "outcome-unknown"],
)
def test_errors_a_retry_cannot_fix_fail_the_task_at_once(error: Exception, fails_at_once: bool) -> None:
    with (
        mock.patch.object(VtexHook, "send_invoice", side_effect=error),
        pytest.raises((AirflowFailException, type(error))) as caught,
    ):
        invoice_operator().execute(context(1))
    if fails_at_once:
        assert isinstance(caught.value, AirflowFailException)
        assert str(error) in str(caught.value)
    else:  # left to the task's retries, unchanged
        assert caught.value is error


def test_unknown_options_are_refused_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="if_already_invoiced must be one of"):
        invoice_operator(if_already_invoiced="ignore")
    with pytest.raises(ValueError, match="check_existing must be one of"):
        invoice_operator(check_existing="never")


def test_wait_for_confirmation_fails_retryably_when_vtex_does_not_show_it() -> None:
    with (
        mock.patch.object(VtexHook, "send_invoice", return_value=InvoiceResult(ORDER, "NF-1", Outcome.SENT)),
        mock.patch.object(VtexHook, "wait_for_invoice", return_value=None),
        pytest.raises(AirflowException, match="does not show it after 5 s") as caught,
    ):
        invoice_operator(wait_for_confirmation=True, confirmation_timeout=5).execute(context(1))
    assert not isinstance(caught.value, AirflowFailException)


def test_the_rendered_invoice_is_kept_json_safe_when_invalid() -> None:
    operator = invoice_operator()
    operator.invoice = {"invoiceValue": float("nan"), "items": [float("inf")]}
    with mock.patch("airflow_provider_vtex.compat.BaseOperator.render_template_fields"):
        operator.render_template_fields(context(1))  # type: ignore[arg-type]
    assert operator.invoice == {"invoiceValue": "nan", "items": ["inf"]}


# ---------------------------------------------------------------- TrackingNotificationOperator
def test_tracking_calls_the_number_then_the_status_route() -> None:
    calls: list[str] = []
    receipt = mock.Mock(receipt="r", to_xcom=lambda: {"receipt": "r"})
    with (
        mock.patch.object(
            VtexHook, "notify_tracking", side_effect=lambda *a: calls.append("number") or receipt
        ),
        mock.patch.object(
            VtexHook, "update_tracking_status", side_effect=lambda *a: calls.append("status") or receipt
        ),
    ):
        result = TrackingNotificationOperator(
            task_id="t",
            order_id=ORDER,
            invoice_number="NF-1",
            tracking={"trackingNumber": "BR1", "isDelivered": True, "deliveredDate": "2024-02-10 14:30"},
        ).execute(context(1))
    assert calls == ["number", "status"]
    assert result["tracking_receipt"] == result["status_receipt"] == {"receipt": "r"}


# ---------------------------------------------------------------- VtexOrderStatusSensor
@pytest.mark.parametrize(
    ("status", "expected"), [("ready-for-handling", True), ("payment-pending", False), ("canceled", "fail")]
)
def test_the_sensor_decides_from_the_status(status: str, expected: Any) -> None:
    sensor = VtexOrderStatusSensor(task_id="wait", order_id=ORDER)
    with mock.patch.object(VtexHook, "get_order", return_value={"status": status}):
        if expected == "fail":
            with pytest.raises(AirflowFailException, match="will never reach"):
                sensor.poke(context())
        else:
            done = sensor.poke(context())
            assert bool(getattr(done, "is_done", done)) is expected


def test_the_sensor_pokes_again_after_an_outage() -> None:
    sensor = VtexOrderStatusSensor(task_id="wait", order_id=ORDER)
    error = VtexServerError("503", http_status=503, method="GET", path="/x")
    with mock.patch.object(VtexHook, "get_order", side_effect=error):
        assert sensor.poke(context()) is False


def test_the_connection_id_is_templated_for_every_task_class() -> None:
    for task in (
        invoice_operator(),
        TrackingNotificationOperator(task_id="t", order_id=ORDER, invoice_number="NF-1", tracking={}),
        BulkInvoiceNotificationOperator(task_id="b", invoices=[]),
        VtexOrderStatusSensor(task_id="s", order_id=ORDER),
    ):
        assert "vtex_conn_id" in task.template_fields


def test_hook_params_reach_the_hook_and_bulk_adds_its_own() -> None:
    bulk = BulkInvoiceNotificationOperator(
        task_id="b",
        invoices=[],
        max_concurrency=3,
        max_requests_per_second=7,
        hook_params={"readback_timeout": 9},
    )
    assert (bulk.hook.pool_maxsize, bulk.hook.rate_limiter.max_per_second, bulk.hook.readback_timeout) == (
        3,
        7,
        9,
    )
    assert invoice_operator(hook_params={"readback_timeout": 9}).hook.readback_timeout == 9
