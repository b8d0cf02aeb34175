"""VtexHook at the HTTP level: connection settings, headers, URLs, retries and error messages."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from airflow_provider_vtex.exceptions import (
    VtexAuthError,
    VtexBadRequestError,
    VtexConnectionConfigError,
    VtexNotFoundError,
    VtexOutcomeUnknownError,
    VtexPayloadError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
    VtexUnexpectedResponseError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from tests.http_fakes import FakeVtex, dropped, receipt, refused, response, vtex_error

ORDER = "1172452900788-01"


@pytest.fixture
def fake(mocker: Any) -> FakeVtex:
    fake = FakeVtex(script=[response(200, receipt(ORDER))])
    mocker.patch.object(requests.adapters.HTTPAdapter, "send", autospec=True, side_effect=fake.send)
    return fake


@pytest.fixture
def hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection()
    return VtexHook(backoff_initial=0.001, backoff_max=0.01)


# ---------------------------------------------------------------- connection
def test_connection_from_the_documented_env_var(monkeypatch: pytest.MonkeyPatch, fake: FakeVtex) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VTEX_DEFAULT",
        '{"conn_type": "vtex", "login": "KEY", "password": "TOKEN", "host": "mystore", '
        '"extra": {"base_url": "http://127.0.0.1:8089"}}',
    )
    VtexHook().get_order(ORDER)
    assert fake.sent[0].url == f"http://127.0.0.1:8089/api/oms/pvt/orders/{ORDER}"


@pytest.mark.parametrize(
    ("extra", "base"),
    [
        ({}, "https://mystore.vtexcommercestable.com.br"),
        ({"environment": "vtexcommercebeta"}, "https://mystore.vtexcommercebeta.com.br"),
        ({"base_url": "https://proxy.example/vtex/"}, "https://proxy.example/vtex"),
        ({"extra__vtex__environment": "vtexcommercebeta"}, "https://mystore.vtexcommercebeta.com.br"),
        ({"environment": "", "base_url": ""}, "https://mystore.vtexcommercestable.com.br"),
    ],
)
def test_url_from_account_environment_or_base_url(
    vtex_connection: Callable[..., str], fake: FakeVtex, extra: dict[str, str], base: str
) -> None:
    vtex_connection(**extra)
    VtexHook().get_order(ORDER)
    assert fake.sent[0].url == f"{base}/api/oms/pvt/orders/{ORDER}"


def test_headers_and_timeout_on_every_request(vtex_connection: Callable[..., str], fake: FakeVtex) -> None:
    vtex_connection(timeout=7)
    hook = VtexHook()
    hook.get_order(ORDER)
    hook.get_order(ORDER)
    for sent in fake.sent:
        assert sent.headers["X-VTEX-API-AppKey"] == "KEY"
        assert sent.headers["X-VTEX-API-AppToken"] == "TOKEN"
        assert sent.headers["Accept"] == "application/json"
        assert sent.headers["Content-Type"] == "application/json"
    assert fake.timeouts == [7.0, 7.0]


def test_one_session_is_reused_for_every_call(hook: VtexHook, fake: FakeVtex) -> None:
    first = hook.get_conn()
    hook.get_order(ORDER)
    hook.notify_tracking(ORDER, "NF-1", {"trackingNumber": "BR1"})
    assert hook.get_conn() is first


def test_path_segments_are_url_encoded(hook: VtexHook, fake: FakeVtex) -> None:
    hook.get_order("a/b c?d#e")
    assert fake.sent[0].path_url == "/api/oms/pvt/orders/a%2Fb%20c%3Fd%23e"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"login": None}, "App Key (the connection's login)"),
        ({"password": None}, "App Token (the connection's password)"),
        ({"host": None}, "Account name (the connection's host"),
    ],
)
def test_missing_credentials_name_the_connection_and_field(
    vtex_connection: Callable[..., str], fields: dict[str, Any], named: str
) -> None:
    vtex_connection("vtex_shop", **fields)
    with pytest.raises(VtexConnectionConfigError) as caught:
        VtexHook("vtex_shop").get_order(ORDER)
    assert "Connection 'vtex_shop'" in str(caught.value)
    assert named in str(caught.value)
    assert "AIRFLOW_CONN_VTEX_SHOP" in str(caught.value)


def test_account_is_optional_when_base_url_is_set(
    vtex_connection: Callable[..., str], fake: FakeVtex
) -> None:
    vtex_connection(host=None, base_url="http://127.0.0.1:9")
    VtexHook().get_order(ORDER)
    assert fake.sent[0].url.startswith("http://127.0.0.1:9/")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"host": "mystore.vtexcommercestable.com.br"}, "bare VTEX account name"),
        ({"base_url": "mystore.example"}, "must start with http:// or https://"),
        ({"timeout": "soon"}, "extra 'timeout' must be a number of seconds"),
        ({"max_retries": 1.5}, "extra 'max_retries' must be a whole number"),
        ({"max_retries": -1}, "extra 'max_retries' must be a whole number"),
    ],
)
def test_unusable_connection_values_are_explained(
    vtex_connection: Callable[..., str], fields: dict[str, Any], fragment: str
) -> None:
    vtex_connection(**fields)
    with pytest.raises(VtexConnectionConfigError, match=fragment):
        VtexHook().get_order(ORDER)


def test_app_token_is_registered_with_the_secrets_masker(hook: VtexHook, mocker: Any) -> None:
    masked = mocker.patch("airflow_provider_vtex.compat.mask_secret", wraps=None)
    mocker.patch("airflow_provider_vtex.hooks.vtex.mask_secret", masked)
    assert hook.config.app_key == "KEY"
    masked.assert_called_once_with("TOKEN")
    assert "TOKEN" not in repr(hook.config)


# ---------------------------------------------------------------- calls and payloads
# The reference payload uses the older route's issuedDate and items[].itemIndex; VTEX's current OpenAPI
# requires issuanceDate and items[].id. Both are sent as given: the deviation is documented in the README.
@pytest.mark.spec_deviation("'issuanceDate' is a required property", "'id' is a required property")
def test_notify_invoice_posts_the_reference_payload_byte_for_byte(
    hook: VtexHook, fake: FakeVtex, reference_invoice: dict[str, Any]
) -> None:
    answer = hook.notify_invoice("70caf3941s6df1", reference_invoice)
    sent = fake.sent[0]
    assert sent.method == "POST"
    assert sent.url == "https://mystore.vtexcommercestable.com.br/api/oms/pvt/orders/70caf3941s6df1/invoice"
    assert json.loads(sent.body) == reference_invoice
    assert list(json.loads(sent.body)) == list(reference_invoice)
    assert sent.body == json.dumps(reference_invoice).encode()
    assert answer == receipt(ORDER)


@pytest.mark.parametrize("form", ["dict", "json"])
def test_payload_arguments_accept_dict_and_json(hook: VtexHook, fake: FakeVtex, form: str) -> None:
    tracking = {"trackingNumber": "BR1", "courier": "Correios"}
    hook.notify_tracking(ORDER, "NF-1", tracking if form == "dict" else json.dumps(tracking))
    assert fake.sent[0].method == "PATCH"
    assert fake.sent[0].path_url == f"/api/oms/pvt/orders/{ORDER}/invoice/NF-1"
    assert fake.bodies()[0] == {
        "trackingNumber": "BR1",
        "courier": "Correios",
        "trackingUrl": None,
        "dispatchedDate": None,
    }


def test_update_tracking_status_puts_events(hook: VtexHook, fake: FakeVtex) -> None:
    event = {"city": "Rio", "state": "RJ", "description": "Coletado", "date": "2024-02-08"}
    hook.update_tracking_status(ORDER, "NF-1", {"isDelivered": False, "events": [event]})
    assert fake.sent[0].method == "PUT"
    assert fake.sent[0].path_url == f"/api/oms/pvt/orders/{ORDER}/invoice/NF-1/tracking"
    assert fake.bodies()[0] == {"isDelivered": False, "deliveredDate": None, "events": [event]}


def test_invalid_payload_sends_nothing(hook: VtexHook, fake: FakeVtex, valid_invoice: dict[str, Any]) -> None:
    with pytest.raises(VtexPayloadError, match="invoiceValue"):
        hook.notify_invoice(ORDER, {**valid_invoice, "invoiceValue": "24.99"})
    assert fake.sent == []


# ---------------------------------------------------------------- retries
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_for_reads(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, status: int
) -> None:
    fake.script = [
        response(status, vtex_error("x", "busy")),
        response(status),
        response(200, {"orderId": ORDER}),
    ]
    assert hook.get_order(ORDER) == {"orderId": ORDER}
    assert len(fake.sent) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(hook: VtexHook, fake: FakeVtex, no_sleep: Any, status: int) -> None:
    fake.script = [response(status, vtex_error("OMS001", "nope"))]
    with pytest.raises((VtexBadRequestError, VtexAuthError, VtexNotFoundError)) as caught:
        hook.get_order(ORDER)
    assert len(fake.sent) == 1
    assert caught.value.http_status == status
    assert caught.value.error_code == "OMS001"
    assert caught.value.error_message == "nope"
    assert "'OMS001'" in str(caught.value)
    assert not caught.value.retryable


def test_429_and_503_are_retried_even_for_the_invoice_post(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any]
) -> None:
    fake.script = [response(429, headers={"Retry-After": "0"}), response(503), response(200, receipt(ORDER))]
    assert hook.notify_invoice(ORDER, valid_invoice)["receipt"] == receipt()["receipt"]
    assert [r.method for r in fake.sent] == ["POST"] * 3


AMBIGUOUS = pytest.mark.parametrize(
    "outcome",
    [
        response(500),
        response(502),
        response(504),
        requests.exceptions.ReadTimeout("read timed out"),
        dropped(),
    ],
    ids=["500", "502", "504", "read-timeout", "dropped-after-send"],
)


def order_with(*invoice_numbers: str) -> requests.Response:
    packages = [{"invoiceNumber": n, "invoiceValue": 7497} for n in invoice_numbers]
    return response(200, {"orderId": ORDER, "packageAttachment": {"packages": packages}})


@AMBIGUOUS
def test_unknown_invoice_outcome_is_read_back_and_not_resent_when_vtex_holds_it(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any], outcome: Any
) -> None:
    fake.script = [outcome, order_with("NF-0001")]
    answer = hook.notify_invoice(ORDER, valid_invoice)
    assert [r.method for r in fake.sent] == ["POST", "GET"]
    assert answer == {
        "orderId": ORDER,
        "invoiceNumber": "NF-0001",
        "receipt": None,
        "date": None,
        "readBack": True,
    }


def test_read_back_waits_for_eventual_consistency(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any]
) -> None:
    fake.script = [dropped(), order_with(), order_with("NF-OTHER"), order_with("NF-OTHER", "NF-0001")]
    assert hook.notify_invoice(ORDER, valid_invoice)["readBack"] is True
    assert [r.method for r in fake.sent] == ["POST", "GET", "GET", "GET"]
    assert [call.args[0] for call in no_sleep.call_args_list] == [hook.readback_interval] * 2


@AMBIGUOUS
def test_invoice_is_resent_only_once_the_read_back_shows_vtex_lacks_it(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any], outcome: Any
) -> None:
    hook.readback_timeout = 0
    fake.script = [outcome, order_with("NF-OTHER"), response(200, receipt(ORDER))]
    assert hook.notify_invoice(ORDER, valid_invoice) == receipt(ORDER)
    assert [r.method for r in fake.sent] == ["POST", "GET", "POST"]


def test_resends_are_bounded_by_max_retries(
    vtex_connection: Callable[..., str], fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any]
) -> None:
    vtex_connection(max_retries=1)
    hook = VtexHook(readback_timeout=0, backoff_initial=0.001)
    fake.script = [response(504), order_with(), response(504), order_with()]
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        hook.notify_invoice(ORDER, valid_invoice)
    assert [r.method for r in fake.sent] == ["POST", "GET", "POST", "GET"]
    assert "did not reach VTEX" in str(caught.value)


def test_nothing_is_resent_when_the_order_cannot_be_read_back(
    vtex_connection: Callable[..., str], fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any]
) -> None:
    vtex_connection(max_retries=2)
    fake.script = [dropped(), response(403, vtex_error("403", "Forbidden"))]
    with pytest.raises(VtexOutcomeUnknownError) as caught:
        VtexHook().notify_invoice(ORDER, valid_invoice)
    assert [r.method for r in fake.sent] == ["POST", "GET"]
    assert "not sent again" in str(caught.value)
    assert caught.value.retryable


def test_invoice_post_is_retried_when_it_was_never_sent(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, valid_invoice: dict[str, Any]
) -> None:
    fake.script = [
        refused(),
        requests.exceptions.ConnectTimeout("connect timeout"),
        response(200, receipt(ORDER)),
    ]
    assert hook.notify_invoice(ORDER, valid_invoice)["orderId"] == ORDER
    assert len(fake.sent) == 3


@pytest.mark.parametrize("outcome", [dropped(), requests.exceptions.ReadTimeout("slow"), response(500)])
def test_idempotent_calls_retry_after_ambiguous_outcomes(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, outcome: Any
) -> None:
    fake.script = [outcome, response(200, receipt(ORDER))]
    hook.notify_tracking(ORDER, "NF-1", {"trackingNumber": "BR1"})
    assert len(fake.sent) == 2


def test_retry_after_seconds_is_honoured(hook: VtexHook, fake: FakeVtex, no_sleep: Any) -> None:
    fake.script = [
        response(429, headers={"Retry-After": "0.004"}),
        response(429, headers={"Retry-After": "3"}),
        response(200, {}),
    ]
    hook.backoff_max = 60
    hook.get_order(ORDER)
    waits = [call.args[0] for call in no_sleep.call_args_list]
    assert waits[1] == 3.0
    assert waits[0] <= 0.01  # not a number of seconds: exponential backoff instead


def test_retry_after_http_date_is_honoured(hook: VtexHook, fake: FakeVtex, no_sleep: Any) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    fake.script = [response(429, headers={"Retry-After": when}), response(200, {})]
    hook.backoff_max = 60
    hook.get_order(ORDER)
    (wait,) = [call.args[0] for call in no_sleep.call_args_list]
    assert 3.0 <= wait <= 5.0


def test_a_single_wait_is_capped(hook: VtexHook, fake: FakeVtex, no_sleep: Any) -> None:
    fake.script = [response(429, headers={"Retry-After": "3600"}), response(200, {})]
    hook.backoff_max = 2
    hook.get_order(ORDER)
    assert [call.args[0] for call in no_sleep.call_args_list] == [2.0]


def test_backoff_grows_exponentially_with_jitter(
    vtex_connection: Callable[..., str], fake: FakeVtex, no_sleep: Any
) -> None:
    vtex_connection(max_retries=4)
    hook = VtexHook(backoff_initial=1, backoff_max=100)
    fake.script = [response(503)]
    with pytest.raises(VtexRetriesExhaustedError):
        hook.get_order(ORDER)
    waits = [call.args[0] for call in no_sleep.call_args_list]
    assert len(waits) == 4
    assert all(0 <= w <= 2**i for i, w in enumerate(waits, start=1))
    assert len(set(waits)) > 1


def test_every_wait_is_logged_with_reason_and_length(
    hook: VtexHook, fake: FakeVtex, no_sleep: Any, caplog: Any, capsys: Any
) -> None:
    fake.script = [response(429, headers={"Retry-After": "0"}), response(200, {})]
    with caplog.at_level(logging.INFO):
        hook.get_order(ORDER)
    logged = caplog.text + capsys.readouterr().out  # Airflow 2 logs via logging, Airflow 3 via structlog
    (line,) = {line[line.index("VTEX GET") :] for line in logged.splitlines() if "waiting" in line}
    assert "HTTP 429" in line
    assert "0.00 s (Retry-After)" in line
    assert "attempt 1 of 6" in line


def test_exhausted_retries_say_so_and_what_vtex_last_answered(
    vtex_connection: Callable[..., str], fake: FakeVtex, no_sleep: Any
) -> None:
    vtex_connection(max_retries=2)
    fake.script = [response(503, vtex_error("CB", "circuit open"))]
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        VtexHook(backoff_initial=0.001).get_order(ORDER)
    assert len(fake.sent) == 3
    assert "after 3 attempt(s)" in str(caught.value)
    assert "503" in str(caught.value)
    assert "circuit open" in str(caught.value)
    assert isinstance(caught.value.last_error, VtexServerError)


# ---------------------------------------------------------------- error messages
@pytest.mark.parametrize(
    ("call", "resource"),
    [
        (lambda h: h.notify_tracking(ORDER, "NF-1", {"trackingNumber": "x"}), "Notify invoice"),
        (lambda h: h.get_order(ORDER), "View order"),
    ],
)
def test_403_names_the_license_manager_resource(
    hook: VtexHook, fake: FakeVtex, call: Any, resource: str
) -> None:
    fake.script = [response(403, vtex_error("403", "Forbidden"))]
    with pytest.raises(VtexAuthError) as caught:
        call(hook)
    assert f"License Manager resource '{resource}'" in str(caught.value)
    assert "TOKEN" not in str(caught.value)


def test_401_points_at_the_credentials(hook: VtexHook, fake: FakeVtex) -> None:
    fake.script = [response(401, vtex_error("1", "Unauthorized access"))]
    with pytest.raises(VtexAuthError, match=r"App Key/App Token of connection 'vtex_default' were rejected"):
        hook.get_order(ORDER)


def test_html_success_body_is_a_clear_error(hook: VtexHook, fake: FakeVtex) -> None:
    fake.script = [response(200, text="<html><body>Login</body></html>")]
    with pytest.raises(VtexUnexpectedResponseError) as caught:
        hook.get_order(ORDER)
    assert "text/html body instead of a JSON object" in str(caught.value)
    assert "<html><body>Login</body></html>" in str(caught.value)


def test_html_error_page_is_quoted_not_a_traceback(hook: VtexHook, fake: FakeVtex, no_sleep: Any) -> None:
    fake.script = [response(404, text="<html>" + "x" * 1000 + "</html>")]
    with pytest.raises(VtexNotFoundError) as caught:
        hook.get_order(ORDER)
    assert "text/html body" in str(caught.value)
    assert len(str(caught.value)) < 800


def test_unreachable_host_is_a_transport_error(vtex_connection: Callable[..., str]) -> None:
    vtex_connection(base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        VtexHook().get_order(ORDER)
    assert isinstance(caught.value.last_error, VtexTransportError)
    assert "request not sent" in str(caught.value)


# ---------------------------------------------------------------- test_connection
def test_test_connection_success(hook: VtexHook, fake: FakeVtex) -> None:
    fake.script = [response(200, {"list": [], "paging": {"total": 0}})]
    ok, message = hook.test_connection()
    assert ok, message
    assert fake.sent[0].path_url == "/api/oms/pvt/orders?per_page=1&page=1"
    assert "Connected to VTEX at https://mystore.vtexcommercestable.com.br" in message


@pytest.mark.parametrize(
    ("status", "fragment"),
    [(401, "rejected the App Key/App Token"), (403, "License Manager resource 'View order'")],
)
def test_test_connection_tells_bad_credentials(
    hook: VtexHook, fake: FakeVtex, status: int, fragment: str
) -> None:
    fake.script = [response(status, vtex_error("1", "Unauthorized access"))]
    ok, message = hook.test_connection()
    assert not ok
    assert fragment in message


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
