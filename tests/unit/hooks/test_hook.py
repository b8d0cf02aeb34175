"""VtexHook's VTEX calls and its decisions: which route set, which body, and when a write is (not) sent again.

HTTP is mocked at the ``requests`` transport with ``requests-mock``; waits run on a fake clock. What VTEX
ends up holding under real HTTP is tested against the sandbox in test_operators, test_reliability and
the sandbox's own tests.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import requests_mock as rm
from urllib3.exceptions import ProtocolError

from airflow_provider_vtex.exceptions import (
    VtexConflictError,
    VtexInvoiceAlreadySentError,
    VtexInvoiceNotVisibleError,
    VtexOutcomeUnknownError,
    VtexPayloadError,
    VtexRetriesExhaustedError,
    VtexUnsupportedError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Outcome
from tests.unit.fake_clock import FakeClock

BASE = "https://mystore.vtexcommercestable.com.br"
ORDER = "1172452900788-01"
ORDER_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}"
PII_ORDER_URL = f"{BASE}/api/orders/pvt/document/70caf3941s6df1"
RECEIPT = {
    "date": "2024-02-07T15:22:56.7612218-02:00",
    "orderId": ORDER,
    "receipt": "38e0e47da2934847b489216d208cfd91",
}


def dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


def order_with(*numbers: str, **package: Any) -> dict[str, Any]:
    packages = [{"invoiceNumber": n, "invoiceValue": 7497, **package} for n in numbers]
    return {
        "json": {
            "orderId": ORDER,
            "status": "ready-for-handling",
            "packageAttachment": {"packages": packages},
        }
    }


def methods(mocker: rm.Mocker) -> list[str]:
    return [request.method for request in mocker.request_history]


@pytest.fixture
def hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection()
    return VtexHook(backoff_initial=0.01, backoff_max=30)


@pytest.fixture
def pii_hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection(data_architecture="pii")
    return VtexHook(backoff_initial=0.01, backoff_max=30)


# ---------------------------------------------------------------- each route set its own contract
def test_the_reference_payload_goes_to_the_pii_route_with_every_value_kept(
    pii_hook: VtexHook, requests_mock: rm.Mocker, reference_invoice: dict[str, Any]
) -> None:
    requests_mock.post(f"{PII_ORDER_URL}/invoices", json=RECEIPT)
    result = pii_hook.send_invoice("70caf3941s6df1", reference_invoice)
    (sent,) = requests_mock.request_history
    assert sent.method == "POST"
    assert sent.url == f"{PII_ORDER_URL}/invoices"
    expected = {
        **reference_invoice,
        "invoiceValue": 2499,
        "items": [{**i, "itemIndex": 67} for i in reference_invoice["items"]],
    }
    assert (
        sent.json() == expected
    )  # every value kept; the Jinja-style digit strings go out as the spec's integers
    assert (result.outcome, result.receipt, result.date) == (
        Outcome.SENT,
        RECEIPT["receipt"],
        RECEIPT["date"],
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [({}, "issuanceDate"), ({"issuedDate": None, "issuanceDate": "2024-03-01"}, "issuanceDate")],
    ids=["reference-payload", "date-only-issuanceDate"],
)
def test_a_pii_payload_or_a_date_only_issuance_date_is_refused_on_a_standard_connection(
    hook: VtexHook,
    requests_mock: rm.Mocker,
    reference_invoice: dict[str, Any],
    change: dict[str, Any],
    named: str,
) -> None:
    payload = {key: value for key, value in {**reference_invoice, **change}.items() if value is not None}
    with pytest.raises(VtexPayloadError) as caught:
        hook.send_invoice("70caf3941s6df1", payload)
    assert f"  - {named}:" in str(caught.value)
    assert requests_mock.call_count == 0


def test_a_standard_invoice_goes_out_with_only_the_keys_set_and_value_as_digits(
    hook: VtexHook, requests_mock: rm.Mocker, valid_invoice: dict[str, Any]
) -> None:
    requests_mock.post(f"{ORDER_URL}/invoice", json=RECEIPT)
    hook.send_invoice(ORDER, {**valid_invoice, "invoiceValue": 7497, "courier": None})
    assert requests_mock.last_request.json() == {**valid_invoice, "invoiceValue": "7497"}


# ---------------------------------------------------------------- the invoice-once rule
def test_429_is_waited_out_and_the_invoice_sent(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    requests_mock.post(
        f"{ORDER_URL}/invoice", [{"status_code": 429, "headers": {"Retry-After": "2"}}, {"json": RECEIPT}]
    )
    assert hook.send_invoice(ORDER, valid_invoice).outcome is Outcome.SENT
    assert methods(requests_mock) == ["POST", "POST"]
    assert clock.sleeps == [2.0]


AMBIGUOUS = pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 500},
        {"status_code": 502},
        {"status_code": 503},
        {"status_code": 504},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
        {"exc": dropped()},
        {"exc": requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")},
    ],
    ids=["500", "502", "503", "504", "read-timeout", "dropped-after-send", "truncated"],
)


@AMBIGUOUS
def test_a_lost_answer_is_read_back_and_not_resent_when_vtex_holds_the_invoice(
    hook: VtexHook,
    requests_mock: rm.Mocker,
    clock: FakeClock,
    valid_invoice: dict[str, Any],
    failure: dict[str, Any],
) -> None:
    requests_mock.post(f"{ORDER_URL}/invoice", [failure])
    requests_mock.get(ORDER_URL, [order_with(), order_with("NF-0001")])  # VTEX shows it one poll later
    result = hook.send_invoice(ORDER, valid_invoice)
    assert result.outcome is Outcome.CONFIRMED_BY_READ_BACK
    assert methods(requests_mock) == ["POST", "GET", "GET"]
    assert clock.sleeps == [hook.readback_interval]


@AMBIGUOUS
def test_the_invoice_is_resent_only_once_the_visibility_window_shows_it_absent(
    hook: VtexHook,
    requests_mock: rm.Mocker,
    clock: FakeClock,
    valid_invoice: dict[str, Any],
    failure: dict[str, Any],
) -> None:
    requests_mock.post(f"{ORDER_URL}/invoice", [failure, {"json": RECEIPT}])
    requests_mock.get(ORDER_URL, [order_with("NF-OTHER")])
    assert hook.send_invoice(ORDER, valid_invoice).outcome is Outcome.SENT
    assert methods(requests_mock)[0] == "POST"
    assert methods(requests_mock)[-1] == "POST"
    assert methods(requests_mock).count("POST") == 2
    assert clock.slept == pytest.approx(hook.readback_timeout)  # the whole window, then the resend


def test_resends_are_bounded(
    vtex_connection: Callable[..., str],
    requests_mock: rm.Mocker,
    clock: FakeClock,
    valid_invoice: dict[str, Any],
) -> None:
    vtex_connection(max_retries=1)
    requests_mock.post(f"{ORDER_URL}/invoice", status_code=504)
    requests_mock.get(ORDER_URL, [order_with()])
    with pytest.raises(VtexRetriesExhaustedError, match="did not reach VTEX"):
        VtexHook(readback_timeout=4, readback_interval=2).send_invoice(ORDER, valid_invoice)
    assert methods(requests_mock).count("POST") == 2


def test_nothing_is_resent_when_the_order_cannot_be_read_back(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    requests_mock.post(f"{ORDER_URL}/invoice", [{"exc": dropped()}])
    requests_mock.get(ORDER_URL, status_code=403, json={"error": {"code": "403", "message": "Forbidden"}})
    with pytest.raises(VtexOutcomeUnknownError) as caught:
        hook.send_invoice(ORDER, valid_invoice)
    assert methods(requests_mock) == ["POST", "GET"]
    assert "not sent again" in str(caught.value)
    assert caught.value.retryable


def test_one_deadline_bounds_read_backs_and_resends(
    vtex_connection: Callable[..., str],
    requests_mock: rm.Mocker,
    clock: FakeClock,
    valid_invoice: dict[str, Any],
) -> None:
    vtex_connection(max_retries=5)
    requests_mock.post(f"{ORDER_URL}/invoice", status_code=503)
    requests_mock.get(ORDER_URL, [order_with()])
    hook = VtexHook(max_total_wait=20, readback_timeout=30, readback_interval=2)
    with pytest.raises(VtexOutcomeUnknownError, match="time budget"):
        hook.send_invoice(ORDER, valid_invoice)
    assert methods(requests_mock).count("POST") == 1  # absence never concluded: never resent
    assert clock.slept <= 20


def test_check_first_waits_out_the_visibility_window_of_an_earlier_attempt(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    """The crash case: an earlier attempt sent the invoice just before it died; VTEX shows it 10 s later."""
    requests_mock.get(ORDER_URL, [order_with()] * 5 + [order_with("NF-0001")])
    result = hook.send_invoice(
        ORDER, valid_invoice, check_first=True, maybe_sent_at=dt.datetime.now(dt.timezone.utc)
    )
    assert result.outcome is Outcome.ALREADY_INVOICED
    assert "POST" not in methods(requests_mock)
    assert clock.slept == pytest.approx(10)


def test_check_first_sends_once_the_window_has_passed(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    requests_mock.get(ORDER_URL, [order_with()])
    requests_mock.post(f"{ORDER_URL}/invoice", json=RECEIPT)
    result = hook.send_invoice(
        ORDER, valid_invoice, check_first=True, maybe_sent_at=dt.datetime.now(dt.timezone.utc)
    )
    assert result.outcome is Outcome.SENT
    assert clock.slept == pytest.approx(hook.readback_timeout, abs=0.5)
    assert methods(requests_mock)[-1] == "POST"


def test_check_first_without_an_earlier_attempt_reads_once(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, valid_invoice: dict[str, Any]
) -> None:
    requests_mock.get(ORDER_URL, [order_with()])
    requests_mock.post(f"{ORDER_URL}/invoice", json=RECEIPT)
    hook.send_invoice(ORDER, valid_invoice, check_first=True)
    assert methods(requests_mock) == ["GET", "POST"]
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("mode", "outcome", "posts"),
    [("skip", Outcome.ALREADY_INVOICED, 0), ("resend", Outcome.SENT, 1), ("fail", None, 0)],
)
def test_an_invoice_vtex_holds_is_skipped_resent_or_refused_as_asked(
    hook: VtexHook,
    requests_mock: rm.Mocker,
    valid_invoice: dict[str, Any],
    mode: Any,
    outcome: Any,
    posts: int,
) -> None:
    requests_mock.get(ORDER_URL, [order_with("NF-0001")])
    requests_mock.post(f"{ORDER_URL}/invoice", json=RECEIPT)
    if outcome is None:
        with pytest.raises(VtexInvoiceAlreadySentError, match="if_already_invoiced='fail'"):
            hook.send_invoice(ORDER, valid_invoice, check_first=True, if_already_invoiced=mode)
    else:
        assert (
            hook.send_invoice(ORDER, valid_invoice, check_first=True, if_already_invoiced=mode).outcome
            is outcome
        )
    assert methods(requests_mock).count("POST") == posts


# ---------------------------------------------------------------- tracking
HELD = {
    "courier": "Correios",
    "trackingUrl": "https://track/1",
    "dispatchedDate": "2024-02-08T13:16:13.4617653+00:00",
}


def test_a_tracking_number_alone_keeps_the_courier_url_and_dispatch_date_vtex_holds(
    hook: VtexHook, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(ORDER_URL, [order_with("NF-1", trackingNumber="OLD", **HELD)])
    requests_mock.patch(f"{ORDER_URL}/invoice/NF-1", json=RECEIPT)
    receipt = hook.notify_tracking(ORDER, "NF-1", {"trackingNumber": "BR1"})
    assert requests_mock.last_request.json() == {"trackingNumber": "BR1", **HELD}
    assert receipt.receipt == RECEIPT["receipt"]


def test_tracking_with_all_four_keys_reads_nothing(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    body = {
        "trackingNumber": "BR1",
        "courier": "Loggi",
        "trackingUrl": "u",
        "dispatchedDate": "2024-02-08T10:00:00-03:00",
    }
    requests_mock.patch(f"{ORDER_URL}/invoice/NF-1", json=RECEIPT)
    hook.notify_tracking(ORDER, "NF-1", json.dumps(body))
    assert methods(requests_mock) == ["PATCH"]
    assert requests_mock.last_request.json() == body


def test_tracking_for_an_invoice_vtex_does_not_show_fails_retryably(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    requests_mock.get(ORDER_URL, [order_with()])
    with pytest.raises(VtexInvoiceNotVisibleError, match="Send the invoice first") as caught:
        hook.notify_tracking(ORDER, "NF-1", {"trackingNumber": "BR1"})
    assert caught.value.retryable
    assert "PATCH" not in methods(requests_mock)


def test_tracking_status_puts_events(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    event = {"city": "Rio", "state": "RJ", "description": "Coletado", "date": "2024-02-08"}
    requests_mock.put(f"{ORDER_URL}/invoice/NF-1/tracking", json=RECEIPT)
    hook.update_tracking_status(ORDER, "NF-1", {"isDelivered": False, "events": [event]})
    assert requests_mock.last_request.json() == {
        "isDelivered": False,
        "deliveredDate": None,
        "events": [event],
    }


@pytest.mark.parametrize("call", ["notify_tracking", "update_tracking_status"])
def test_tracking_on_the_pii_architecture_is_refused_with_the_reason(
    pii_hook: VtexHook, requests_mock: rm.Mocker, call: str
) -> None:
    with pytest.raises(VtexUnsupportedError, match="PII data architecture has no tracking routes"):
        getattr(pii_hook, call)("70caf3941s6df1", "NF-1", {"trackingNumber": "BR1"})
    assert requests_mock.call_count == 0


# ---------------------------------------------------------------- orders and the feed
def test_start_handling(hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock) -> None:
    requests_mock.post(f"{ORDER_URL}/start-handling", status_code=204)
    assert hook.start_handling(ORDER) is Outcome.SENT


def test_start_handling_on_an_order_not_ready_is_reported_not_retried(
    hook: VtexHook, requests_mock: rm.Mocker
) -> None:
    body = {
        "error": {
            "code": "OMS003",
            "message": "Order status should be ready-for-handling to perform this action",
        }
    }
    requests_mock.post(f"{ORDER_URL}/start-handling", status_code=409, json=body)
    with pytest.raises(VtexConflictError, match="ready-for-handling") as caught:
        hook.start_handling(ORDER)
    assert not caught.value.retryable
    assert requests_mock.call_count == 1


def test_start_handling_whose_answer_was_lost_is_read_back(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    requests_mock.post(f"{ORDER_URL}/start-handling", status_code=500)
    requests_mock.get(ORDER_URL, json={"orderId": ORDER, "status": "handling"})
    assert hook.start_handling(ORDER) is Outcome.CONFIRMED_BY_READ_BACK
    assert methods(requests_mock) == ["POST", "GET"]


@pytest.mark.parametrize("architecture", ["standard", "pii"])
def test_start_handling_and_cancel_use_the_route_set_of_the_connection(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, architecture: str
) -> None:
    vtex_connection(data_architecture=architecture)
    base = ORDER_URL if architecture == "standard" else f"{BASE}/api/orders/pvt/document/{ORDER}"
    start = f"{base}/start-handling" if architecture == "standard" else f"{base}/actions/start-handling"
    requests_mock.post(start, status_code=204)
    requests_mock.post(f"{base}/cancel", json=RECEIPT)
    hook = VtexHook()
    hook.start_handling(ORDER)
    assert hook.cancel_order(ORDER, reason="stock shortage").receipt == RECEIPT["receipt"]
    assert requests_mock.last_request.json() == {"reason": "stock shortage"}


def test_list_orders_passes_vtex_filters(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    answer = {"list": [{"orderId": "A-01"}, {"orderId": "B-01"}], "paging": {"total": 2}, "stats": {}}
    vtex_connection()
    requests_mock.get(f"{BASE}/api/oms/pvt/orders", json=answer)
    page = VtexHook().list_orders(f_status="ready-for-handling", per_page=50)
    assert page.order_ids == ["A-01", "B-01"]
    assert requests_mock.last_request.qs == {"f_status": ["ready-for-handling"], "per_page": ["50"]}
    vtex_connection(data_architecture="pii")
    requests_mock.post(f"{BASE}/api/orders/extendsearch/orders", json=answer)
    assert VtexHook().list_orders(f_status="ready-for-handling").paging == {"total": 2}
    assert requests_mock.last_request.json() == {"f_status": "ready-for-handling"}


def test_list_orders_refuses_more_than_vtex_pages(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    with pytest.raises(VtexPayloadError, match="per_page"):
        hook.list_orders(per_page=500)
    assert requests_mock.call_count == 0


FEED_ITEM = {
    "eventId": "ED42",
    "handle": "AQEB-handle",
    "domain": "Marketplace",
    "state": "ready-for-handling",
    "lastState": "payment-approved",
    "orderId": ORDER,
    "lastChange": "2024-02-07T15:22:56.7612218Z",
    "currentChange": "2024-02-07T15:22:57.0000000Z",
}


def test_feed_items_are_typed_and_not_committed(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/api/orders/feed", json=[FEED_ITEM])
    (item,) = hook.get_feed_items(max_lot=5)
    assert requests_mock.last_request.qs == {"maxlot": ["5"]}
    assert (item.order_id, item.state, item.last_state, item.handle) == (
        ORDER,
        "ready-for-handling",
        "payment-approved",
        "AQEB-handle",
    )
    assert requests_mock.call_count == 1  # reading commits nothing


@pytest.mark.parametrize("max_lot", [0, 11, 2.5, True])
def test_feed_reads_beyond_vtex_lot_size_are_refused(
    hook: VtexHook, requests_mock: rm.Mocker, max_lot: Any
) -> None:
    with pytest.raises(VtexPayloadError, match="from 1 to 10"):
        hook.get_feed_items(max_lot=max_lot)
    assert requests_mock.call_count == 0


def test_committing_handles_and_configuring_the_feed(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    requests_mock.post(f"{BASE}/api/orders/feed", [{"status_code": 503}, {"status_code": 200}])
    hook.commit_feed_items(["h1", "h2"])
    assert requests_mock.last_request.json() == {"handles": ["h1", "h2"]}
    assert requests_mock.call_count == 2  # a commit is safe to repeat
    requests_mock.post(f"{BASE}/api/orders/feed/config", status_code=200)
    hook.set_feed_config(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "queue": {"visibilityTimeoutInSeconds": 60},
        }
    )
    assert requests_mock.last_request.json() == {
        "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
        "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 345600},
    }
    requests_mock.get(
        f"{BASE}/api/orders/feed/config", json={"filter": {"type": "FromWorkflow"}, "quantity": 3}
    )
    assert hook.get_feed_config().quantity == 3
    requests_mock.delete(f"{BASE}/api/orders/feed/config", status_code=200)
    hook.delete_feed_config()


def test_a_feed_filter_must_match_its_type(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    with pytest.raises(VtexPayloadError, match="FromOrders filter needs 'expression'"):
        hook.set_feed_config({"filter": {"type": "FromOrders"}})
    assert requests_mock.call_count == 0


# ---------------------------------------------------------------- the Test button
def test_test_connection_success(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{BASE}/api/oms/pvt/orders", json={"list": [], "paging": {"total": 0}})
    ok, message = hook.test_connection()
    assert ok, message
    assert requests_mock.last_request.qs == {"per_page": ["1"], "page": ["1"]}
    assert "Connected to VTEX at https://mystore.vtexcommercestable.com.br" in message


@pytest.mark.parametrize(
    ("status", "fragment"),
    [(401, "rejected the App Key/App Token"), (403, "License Manager resource 'View order'")],
)
def test_test_connection_tells_bad_credentials(
    hook: VtexHook, requests_mock: rm.Mocker, status: int, fragment: str
) -> None:
    requests_mock.get(
        f"{BASE}/api/oms/pvt/orders",
        status_code=status,
        json={"error": {"code": "1", "message": "Unauthorized access"}},
    )
    ok, message = hook.test_connection()
    assert not ok
    assert fragment in message
    assert requests_mock.call_count == 1


def test_test_connection_tells_an_unreachable_host(vtex_connection: Callable[..., str]) -> None:
    vtex_connection(base_url="http://127.0.0.1:9")
    ok, message = VtexHook().test_connection()
    assert not ok
    assert message.startswith("Could not reach VTEX at http://127.0.0.1:9")


def test_test_connection_reports_a_broken_connection(vtex_connection: Callable[..., str]) -> None:
    vtex_connection(password=None)
    ok, message = VtexHook().test_connection()
    assert not ok
    assert "App Token" in message


def test_a_pii_resend_refused_as_a_duplicate_is_confirmed_by_reading(
    pii_hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, reference_invoice: dict[str, Any]
) -> None:
    """VTEX applied the first send later than its visibility window; the PII route then refuses the resend."""
    conflict = {
        "status_code": 409,
        "json": {"error": {"code": "OMS013", "message": "invoiceNumber already used"}},
    }
    requests_mock.post(f"{PII_ORDER_URL}/invoices", [{"status_code": 504}, conflict])
    held = {
        "json": {
            "orderId": "70caf3941s6df1",
            "packageAttachment": {"packages": [{"invoiceNumber": "123456789"}]},
        }
    }
    requests_mock.get(PII_ORDER_URL, [{"json": {"orderId": "70caf3941s6df1"}}] * 16 + [held])
    assert (
        pii_hook.send_invoice("70caf3941s6df1", reference_invoice).outcome is Outcome.CONFIRMED_BY_READ_BACK
    )
    assert methods(requests_mock).count("POST") == 2


def test_resend_on_purpose_is_refused_on_the_pii_architecture(
    pii_hook: VtexHook, requests_mock: rm.Mocker, reference_invoice: dict[str, Any]
) -> None:
    held = {
        "json": {
            "orderId": "70caf3941s6df1",
            "packageAttachment": {"packages": [{"invoiceNumber": "123456789"}]},
        }
    }
    requests_mock.get(PII_ORDER_URL, [held])
    with pytest.raises(VtexInvoiceAlreadySentError, match="not possible on VTEX's PII data architecture"):
        pii_hook.send_invoice(
            "70caf3941s6df1", reference_invoice, check_first=True, if_already_invoiced="resend"
        )
    assert "POST" not in methods(requests_mock)
