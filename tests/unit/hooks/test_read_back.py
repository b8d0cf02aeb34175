"""A read-back proves only what it shows: an answer that is not the order (an empty 200, JSON without
``orderId``, another order, a list) means "unknown", never "absent": nothing is sent again, and the call
fails retryably saying so. For invoices, start-handling and cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests_mock as rm

from airflow_provider_vtex.exceptions import VtexOutcomeUnknownError, VtexUnexpectedResponseError
from airflow_provider_vtex.hooks.vtex import VtexHook
from tests.unit.fake_clock import FakeClock

BASE = "https://mystore.vtexcommercestable.com.br"
ORDER = "1172452900788-01"
ORDER_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}"

NOT_THE_ORDER: dict[str, dict[str, Any]] = {
    "empty 200": {"status_code": 200, "text": ""},
    "JSON without orderId": {"json": {"status": "ready-for-handling", "packageAttachment": {"packages": []}}},
    "another order": {"json": {"orderId": "999-01", "status": "ready-for-handling"}},
    "a JSON list": {"json": [{"orderId": ORDER}]},
}
WRITES: dict[str, tuple[str, Callable[[VtexHook, dict[str, Any]], Any]]] = {
    "invoice": ("/invoice", lambda hook, invoice: hook.send_invoice(ORDER, invoice)),
    "start-handling": ("/start-handling", lambda hook, _: hook.start_handling(ORDER)),
    "cancel": ("/cancel", lambda hook, _: hook.cancel_order(ORDER, "customer asked")),
}


@pytest.fixture
def hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection()
    return VtexHook(backoff_initial=0.01, readback_timeout=10, readback_interval=1)


@pytest.mark.parametrize("answer", NOT_THE_ORDER)
@pytest.mark.parametrize("write", WRITES)
def test_a_read_back_that_is_not_the_order_means_unknown_and_nothing_is_resent(
    write: str,
    answer: str,
    hook: VtexHook,
    requests_mock: rm.Mocker,
    clock: FakeClock,
    valid_invoice: dict[str, Any],
) -> None:
    suffix, call = WRITES[write]
    post = requests_mock.post(ORDER_URL + suffix, status_code=503, json={"error": {"message": "busy"}})
    requests_mock.get(ORDER_URL, [NOT_THE_ORDER[answer]])
    with pytest.raises(VtexOutcomeUnknownError) as unknown:
        call(hook, valid_invoice)
    assert post.call_count == 1  # never resent on the strength of an answer that shows nothing
    assert unknown.value.retryable
    message = str(unknown.value)
    assert "unknown" in message
    assert "Nothing was sent" in message
    assert f"not order {ORDER}" in message


@pytest.mark.parametrize("answer", NOT_THE_ORDER)
def test_reading_first_meets_an_answer_that_is_not_the_order_and_sends_nothing(
    answer: str, hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    post = requests_mock.post(ORDER_URL + "/invoice", json={"orderId": ORDER, "receipt": "r"})
    requests_mock.get(ORDER_URL, [NOT_THE_ORDER[answer]])
    with pytest.raises(VtexOutcomeUnknownError):
        hook.send_invoice(ORDER, valid_invoice, check_first=True)
    assert post.call_count == 0


@pytest.mark.parametrize("answer", NOT_THE_ORDER)
def test_get_order_refuses_an_answer_that_is_not_the_order(
    answer: str, hook: VtexHook, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(ORDER_URL, [NOT_THE_ORDER[answer]])
    with pytest.raises(VtexUnexpectedResponseError) as raised:
        hook.get_order(ORDER)
    assert raised.value.retryable
    assert f"not order {ORDER}" in str(raised.value)


def test_a_new_run_of_an_invoice_vtex_already_holds_sends_nothing_on_its_first_try(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, valid_invoice: dict[str, Any]
) -> None:
    """A first attempt died after VTEX applied the invoice; a new DAG run (try 1) carries it again. By
    default the operator reads first: one GET, no POST."""
    from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
    from tests.unit.operators.test_operator_decisions import context

    vtex_connection()
    held = {"invoiceNumber": valid_invoice["invoiceNumber"], "invoiceValue": 7497}
    requests_mock.get(ORDER_URL, json={"orderId": ORDER, "packageAttachment": {"packages": [held]}})
    post = requests_mock.post(ORDER_URL + "/invoice", json={"orderId": ORDER, "receipt": "r"})
    operator = InvoiceNotificationOperator(task_id="invoice", order_id=ORDER, invoice=valid_invoice)
    assert operator.execute(context(1))["outcome"] == "already_invoiced"
    assert post.call_count == 0
    assert requests_mock.call_count == 1  # the cost: one GET order per invoice


def test_reading_first_an_order_vtex_does_not_know_lets_the_post_answer(
    hook: VtexHook, requests_mock: rm.Mocker, valid_invoice: dict[str, Any]
) -> None:
    """A 404 to the read says VTEX holds no invoice on that order; the POST's own answer then decides
    (a 404 again on VTEX; the order itself on a sandbox that creates orders from their first invoice)."""
    requests_mock.get(ORDER_URL, status_code=404, json={"error": {"code": "OMS001", "message": "not found"}})
    post = requests_mock.post(ORDER_URL + "/invoice", json={"orderId": ORDER, "receipt": "r", "date": "d"})
    assert hook.send_invoice(ORDER, valid_invoice, check_first=True).outcome.value == "sent"
    assert post.call_count == 1
