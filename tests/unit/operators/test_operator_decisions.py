"""Fast unit tests of what the task classes decide, with the hook's methods patched: which arguments reach
the hook on a first try and on a retry, how outcomes reach XCom, and which errors fail the task at once.

End-to-end behaviour (what VTEX ends up holding, real retries) is proven against the sandbox in real
Airflow in test_operators, test_bulk and test_reliability.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

from airflow_provider_vtex.compat import AirflowException, AirflowFailException, AirflowSkipException
from airflow_provider_vtex.exceptions import (
    VtexConflictError,
    VtexInvoiceAlreadySentError,
    VtexOutcomeUnknownError,
    VtexServerError,
    VtexUnsupportedError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import FeedItem, FeedLot, InvoiceResult, Outcome, UnreadableFeedItem
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator, VtexReadOrderFeedOperator
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor
from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

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
def test_a_first_try_with_check_existing_on_retry_sends_without_reading_first() -> None:
    with mock.patch.object(
        VtexHook, "send_invoice", return_value=InvoiceResult(ORDER, "NF-1", Outcome.SENT, "r", "d")
    ) as send:
        assert invoice_operator(check_existing="on_retry").execute(context(1)) == {
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

    def called(name: str) -> Callable[..., Any]:
        """A side effect that records the route's call, then answers the receipt."""

        def side_effect(*args: Any) -> Any:
            calls.append(name)
            return receipt

        return side_effect

    with (
        mock.patch.object(VtexHook, "notify_tracking", side_effect=called("number")),
        mock.patch.object(VtexHook, "update_tracking_status", side_effect=called("status")),
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


# ---------------------------------------------------------------- deferrable sensor
def test_a_deferrable_sensor_returns_at_once_when_the_order_is_already_there() -> None:
    sensor = VtexOrderStatusSensor(task_id="wait", order_id=ORDER, deferrable=True)
    with mock.patch.object(VtexHook, "get_order", return_value={"status": "ready-for-handling"}):
        assert sensor.execute(context()) == "ready-for-handling"


def test_a_deferrable_sensor_defers_to_the_trigger_with_its_settings() -> None:
    sensor = VtexOrderStatusSensor(
        task_id="wait",
        order_id=ORDER,
        deferrable=True,
        poke_interval=30,
        timeout=600,
        hook_params={"max_retries": 2},
    )
    with (
        mock.patch.object(VtexHook, "get_order", return_value={"status": "payment-pending"}),
        mock.patch.object(sensor, "defer") as defer,
    ):
        sensor.execute(context())
    trigger = defer.call_args.kwargs["trigger"]
    assert isinstance(trigger, VtexOrderStatusTrigger)
    assert defer.call_args.kwargs["method_name"] == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["order_id"] == ORDER
    assert (kwargs["poll_interval"], kwargs["hook_params"]) == (30, {"max_retries": 2})
    assert kwargs["end_time"] == pytest.approx(time.time() + 600, abs=5)


def test_deferrable_defaults_to_airflows_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert VtexOrderStatusSensor(task_id="a", order_id=ORDER).deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert VtexOrderStatusSensor(task_id="b", order_id=ORDER).deferrable is True


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        ({"status": "success", "order_status": "handling"}, "handling"),
        ({"status": "failed", "message": "Order X is 'canceled'"}, AirflowFailException),
        ({"status": "timeout", "message": "did not reach"}, AirflowFailException),
    ],
)
def test_the_sensor_resumes_from_the_trigger_event(event: dict[str, Any], outcome: Any) -> None:
    sensor = VtexOrderStatusSensor(task_id="wait", order_id=ORDER, deferrable=True)
    if isinstance(outcome, str):
        assert sensor.execute_complete(context(), event) == outcome
    else:
        with pytest.raises(outcome, match=event["message"]):
            sensor.execute_complete(context(), event)


def test_a_soft_failing_sensor_skips_on_timeout() -> None:
    sensor = VtexOrderStatusSensor(task_id="wait", order_id=ORDER, deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        sensor.execute_complete(context(), {"status": "timeout", "message": "late"})


# ---------------------------------------------------------------- feed and start handling
def feed_item(event: str, handle: str) -> FeedItem:
    return FeedItem.model_validate(
        {
            "eventId": event,
            "handle": handle,
            "orderId": ORDER,
            "state": "ready-for-handling",
            "lastState": "x",
        }
    )


def test_reading_the_feed_reads_in_lots_of_ten_and_commits_nothing() -> None:
    item = iter(feed_item(f"e{n}", f"h{n}") for n in range(23))
    lots = [[next(item) for _ in range(size)] for size in (10, 10, 3)]
    with (
        mock.patch.object(VtexHook, "read_feed_lot", side_effect=[FeedLot(lot, []) for lot in lots]) as read,
        mock.patch.object(VtexHook, "_call") as sent,
    ):
        items = VtexReadOrderFeedOperator(task_id="read", max_items=25).execute(context())
    assert len(items) == 23
    assert [call.kwargs["max_lot"] for call in read.call_args_list] == [10, 10, 5]
    assert items[0]["order_id"] == ORDER
    sent.assert_not_called()  # nothing committed


def test_an_unreadable_item_is_set_aside_committed_and_listed_for_a_dead_letter_task() -> None:
    bad = UnreadableFeedItem(1, "e-bad", "h-bad", None, ("orderId: is missing",))
    lots = [FeedLot([feed_item("e0", "h0"), feed_item("e2", "h2")], [bad])]
    for keep, committed in ((False, [["h-bad"]]), (True, [])):
        ctx = context()
        with (
            mock.patch.object(VtexHook, "read_feed_lot", side_effect=lots),
            mock.patch.object(VtexHook, "commit_feed_items") as commit,
        ):
            operator = VtexReadOrderFeedOperator(task_id="read", max_items=3, keep_unreadable=keep)
            items = operator.execute(ctx)
        assert [item["event_id"] for item in items] == ["e0", "e2"]
        assert [call.args[0] for call in commit.call_args_list if call.args[0]] == committed
        ctx["ti"].xcom_push.assert_called_once_with(key="unreadable", value=[bad.to_xcom()])


def test_committing_takes_feed_items_or_handles() -> None:
    with mock.patch.object(VtexHook, "commit_feed_items") as commit:
        assert (
            VtexCommitOrderFeedOperator(task_id="c", handles=[{"handle": "h1"}, "h2"]).execute(context()) == 2
        )
    commit.assert_called_once_with(["h1", "h2"])
    with pytest.raises(AirflowFailException, match=r"handles\[0\]"):
        VtexCommitOrderFeedOperator(task_id="c2", handles=[{"order_id": "x"}]).execute(context())


def test_an_event_handed_out_again_within_one_read_is_returned_once_and_every_handle_committed() -> None:
    """100 items handed out, of which 10 distinct events (the visibility timeout ran out during the
    read): 10 items downstream, 100 handles committed."""
    lots = [[feed_item(f"e{n % 10}", f"h{lot}-{n}") for n in range(10)] for lot in range(10)]
    with mock.patch.object(VtexHook, "read_feed_lot", side_effect=[FeedLot(lot, []) for lot in [*lots, []]]):
        items = VtexReadOrderFeedOperator(task_id="read", max_items=100).execute(context())
    assert [item["event_id"] for item in items] == [f"e{n}" for n in range(10)]
    assert items[3]["handles"] == [f"h{lot}-3" for lot in range(10)]
    assert items[3]["handle"] == "h9-3"  # the latest
    with mock.patch.object(VtexHook, "commit_feed_items") as commit:
        assert VtexCommitOrderFeedOperator(task_id="c", handles=items).execute(context()) == 100
    committed = [handle for call in commit.call_args_list for handle in call.args[0]]
    assert sorted(committed) == sorted(f"h{lot}-{n}" for lot in range(10) for n in range(10))


@pytest.mark.parametrize(
    ("status", "outcome", "starts"),
    [
        ("ready-for-handling", "started", 1),
        ("handling", "already_handling", 0),
        ("invoiced", "already_handling", 0),
        ("canceled", "not_ready", 0),
    ],
)
def test_start_handling_acts_once_per_ready_order(status: str, outcome: str, starts: int) -> None:
    with (
        mock.patch.object(VtexHook, "get_order", return_value={"status": status}),
        mock.patch.object(VtexHook, "start_handling", return_value=Outcome.SENT) as start,
    ):
        (result,) = VtexStartHandlingOperator(task_id="s", order_ids=[ORDER, {"order_id": ORDER}]).execute(
            context()
        )
    assert result["outcome"] == outcome
    assert start.call_count == starts


def test_start_handling_that_lost_a_race_reads_again() -> None:
    conflict = VtexConflictError("409", http_status=409, method="POST", path="/x")
    with (
        mock.patch.object(
            VtexHook, "get_order", side_effect=[{"status": "ready-for-handling"}, {"status": "handling"}]
        ),
        mock.patch.object(VtexHook, "start_handling", side_effect=conflict),
    ):
        (result,) = VtexStartHandlingOperator(task_id="s", order_ids=ORDER).execute(context())
    assert result["outcome"] == "already_handling"


def test_start_handling_tries_every_order_then_fails_retryably_naming_them() -> None:
    outage = VtexServerError("503", http_status=503, method="GET", path="/x")
    with (
        mock.patch.object(VtexHook, "get_order", side_effect=[outage, {"status": "ready-for-handling"}]),
        mock.patch.object(VtexHook, "start_handling", return_value=Outcome.SENT) as start,
        pytest.raises(AirflowException, match="failed for 1 of 2 orders: A-01") as caught,
    ):
        VtexStartHandlingOperator(task_id="s", order_ids=["A-01", "B-01"]).execute(context())
    assert not isinstance(caught.value, AirflowFailException)
    start.assert_called_once_with("B-01")
