"""Errors that fit their cause: a connection that does not exist fails at once saying how to define it,
and each 404 gives the advice of its own route."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import requests_mock as rm

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import VtexConnectionConfigError, VtexNotFoundError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator, VtexReadOrderFeedOperator
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator
from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor
from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger
from tests.unit.operators.test_operator_decisions import context

ORDER = "1172452900788-01"
BASE = "https://mystore.vtexcommercestable.com.br"
MISSING = "vtex_prod"

TASKS: dict[str, Callable[[], Any]] = {
    "invoice": lambda: InvoiceNotificationOperator(
        task_id="t", order_id=ORDER, invoice={"any": "payload"}, vtex_conn_id=MISSING
    ),
    "bulk": lambda: BulkInvoiceNotificationOperator(
        task_id="t", invoices=[{"order_id": ORDER, "invoice": {}}], vtex_conn_id=MISSING
    ),
    "tracking": lambda: TrackingNotificationOperator(
        task_id="t",
        order_id=ORDER,
        invoice_number="NF-1",
        tracking={"trackingNumber": "TR-1"},
        vtex_conn_id=MISSING,
    ),
    "start handling": lambda: VtexStartHandlingOperator(task_id="t", order_ids=[ORDER], vtex_conn_id=MISSING),
    "read feed": lambda: VtexReadOrderFeedOperator(task_id="t", vtex_conn_id=MISSING),
    "commit feed": lambda: VtexCommitOrderFeedOperator(task_id="t", handles=["h1"], vtex_conn_id=MISSING),
    "sensor": lambda: VtexOrderStatusSensor(task_id="t", order_id=ORDER, vtex_conn_id=MISSING),
}


def _says_how_to_define_it(message: str) -> None:
    assert f"'{MISSING}'" in message
    assert "Admin > Connections" in message
    assert f"AIRFLOW_CONN_{MISSING.upper()}" in message


@pytest.mark.parametrize("task", TASKS)
def test_a_connection_that_does_not_exist_fails_the_task_at_once_saying_how_to_define_it(
    task: str, requests_mock: rm.Mocker
) -> None:
    operator = TASKS[task]()
    with pytest.raises(AirflowFailException) as failed:  # not retried: a retry cannot define it
        operator.poke(context()) if task == "sensor" else operator.execute(context())
    _says_how_to_define_it(str(failed.value))
    assert requests_mock.call_count == 0


def test_the_hook_and_the_trigger_say_the_same() -> None:
    with pytest.raises(VtexConnectionConfigError) as raised:
        VtexHook(MISSING).get_order(ORDER)
    _says_how_to_define_it(str(raised.value))

    async def first_event() -> Any:
        trigger = VtexOrderStatusTrigger(order_id=ORDER, statuses=["invoiced"], vtex_conn_id=MISSING)
        async for event in trigger.run():
            return event.payload
        return None

    event = asyncio.run(first_event())
    assert event["status"] == "failed"
    _says_how_to_define_it(event["message"])


@pytest.mark.parametrize(
    ("call", "url"),
    [
        (lambda hook: hook.get_feed_items(), f"{BASE}/api/orders/feed"),
        (lambda hook: hook.commit_feed_items(["h1"]), f"{BASE}/api/orders/feed"),
        (lambda hook: hook.get_feed_config(), f"{BASE}/api/orders/feed/config"),
    ],
)
def test_a_feed_404_says_the_appkey_has_no_feed_configuration_and_how_to_set_one(
    call: Callable[[VtexHook], Any], url: str, vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    vtex_connection()
    requests_mock.register_uri(
        rm.ANY, url, status_code=404, json={"error": {"code": "404", "message": "Not Found"}}
    )
    with pytest.raises(VtexNotFoundError) as raised:
        call(VtexHook(max_retries=0))
    message = str(raised.value)
    assert "no feed configuration" in message
    assert "set_feed_config" in message
    assert "invoice" not in message.lower()


def test_an_order_404_keeps_the_order_advice_and_a_tracking_404_names_the_invoice(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    vtex_connection()
    order_url = f"{BASE}/api/oms/pvt/orders/{ORDER}"
    requests_mock.get(order_url, status_code=404, json={"error": {"code": "404", "message": "Not Found"}})
    requests_mock.put(f"{order_url}/invoice/NF-1/tracking", status_code=404, json={"error": {"code": "404"}})
    hook = VtexHook(max_retries=0)
    with pytest.raises(VtexNotFoundError) as order:
        hook.get_order(ORDER)
    assert "Check the order id" in str(order.value)
    assert "feed" not in str(order.value)
    with pytest.raises(VtexNotFoundError) as tracking:
        hook.update_tracking_status(ORDER, "NF-1", {"isDelivered": False, "events": []})
    assert "invoice VTEX already holds" in str(tracking.value)


# ---------------------------------------------------------------- route values, every public hook method
HOSTILE = ["..", ".", "../../x", "a?b=c", "x#y", "a/b", "a b", "", "%2e%2e", "ação", "x" * 101, None]
GOOD_INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-1",
    "invoiceValue": 100,
    "issuanceDate": "2024-01-31T18:25:43-03:00",
    "items": [{"id": "1", "price": 100, "quantity": 1}],
}
PARTIAL_TRACKING = {"trackingNumber": "TR-1"}
STATUS = {"isDelivered": False, "events": []}
CHANGE = {"reason": "r", "remove": {"items": [{"id": "1", "quantity": 1}]}}
CALLS: dict[str, Callable[[VtexHook, Any], Any]] = {
    "send_invoice order_id": lambda h, v: h.send_invoice(v, GOOD_INVOICE),
    "send_invoice invoiceNumber": lambda h, v: h.send_invoice(ORDER, {**GOOD_INVOICE, "invoiceNumber": v}),
    "notify_tracking order_id": lambda h, v: h.notify_tracking(v, "NF-1", PARTIAL_TRACKING),
    "notify_tracking invoice_number": lambda h, v: h.notify_tracking(ORDER, v, PARTIAL_TRACKING),
    "update_tracking_status order_id": lambda h, v: h.update_tracking_status(v, "NF-1", STATUS),
    "update_tracking_status invoice_number": lambda h, v: h.update_tracking_status(ORDER, v, STATUS),
    "get_order": lambda h, v: h.get_order(v),
    "aget_order": lambda h, v: asyncio.run(h.aget_order(v)),
    "find_invoice order_id": lambda h, v: h.find_invoice(v, "NF-1"),
    "find_invoice invoice_number": lambda h, v: h.find_invoice(ORDER, v),
    "wait_for_invoice order_id": lambda h, v: h.wait_for_invoice(v, "NF-1", timeout=0.2),
    "wait_for_invoice invoice_number": lambda h, v: h.wait_for_invoice(ORDER, v, timeout=0.2),
    "start_handling": lambda h, v: h.start_handling(v),
    "cancel_order": lambda h, v: h.cancel_order(v),
    "cancel_order_once": lambda h, v: h.cancel_order_once(v),
    "get_order_group": lambda h, v: h.get_order_group(v),
    "get_payment_transaction": lambda h, v: h.get_payment_transaction(v),
    "get_conversation": lambda h, v: h.get_conversation(v),
    "get_change_summary": lambda h, v: h.get_change_summary(v),
    "get_user_order": lambda h, v: h.get_user_order(v),
    "add_interaction": lambda h, v: h.add_interaction(v, {"source": "s", "message": "m"}),
    "preview_change": lambda h, v: h.preview_change(v, CHANGE),
    "create_change": lambda h, v: h.create_change(v, CHANGE),
    "list_changes": lambda h, v: h.list_changes(v),
    "get_change order_id": lambda h, v: h.get_change(v, "r1"),
    "get_change change_request_id": lambda h, v: h.get_change(ORDER, v),
    "aget_change": lambda h, v: asyncio.run(h.aget_change(ORDER, v)),
    "retry_change": lambda h, v: h.retry_change(ORDER, v, CHANGE),
    "cancel_change": lambda h, v: h.cancel_change(ORDER, v, "no"),
}


@pytest.mark.parametrize("call", CALLS)
def test_every_public_hook_method_refuses_a_route_changing_value_before_any_request(
    call: str, vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    from airflow_provider_vtex.exceptions import VtexPayloadError

    vtex_connection()
    requests_mock.register_uri(rm.ANY, rm.ANY, json={"orderId": ORDER, "packageAttachment": {"packages": []}})
    hook = VtexHook(max_retries=0, readback_timeout=0.2, readback_interval=0.05)
    for value in HOSTILE:
        with pytest.raises(VtexPayloadError) as refused:  # what the operators fail on at once
            CALLS[call](hook, value)
        said = str(refused.value)
        assert any(name in said for name in ("order_id", "nvoice", "change_request_id", "order_group"))
    assert requests_mock.call_count == 0
