"""The HTTP layer under the hook: headers, the environment's settings, retries, waits and error messages.

HTTP is mocked at the ``requests`` transport with ``requests-mock`` (as Airflow's own provider tests do):
the hook's session, headers, URL building and JSON encoding run for real. Waits run on a fake clock.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import requests_mock as rm
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from airflow_provider_vtex.client.rules import RetryPolicy
from airflow_provider_vtex.exceptions import (
    VtexAuthError,
    VtexBadRequestError,
    VtexNotFoundError,
    VtexPayloadError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
    VtexUnexpectedResponseError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from tests.unit.fake_clock import FakeClock

BASE = "https://mystore.vtexcommercestable.com.br"
ORDER = "1172452900788-01"
ORDER_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}"


def vtex_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "exception": None}}


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the request was never sent."""
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", cause))  # type: ignore[arg-type]


def dropped() -> requests.exceptions.ConnectionError:
    """What requests raises when the server closes the connection after reading the request."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


@pytest.fixture
def hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection()
    return VtexHook(backoff_initial=0.5, backoff_max=30)


# ---------------------------------------------------------------- what every request carries
def test_headers_timeout_and_one_pooled_session(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    vtex_connection(timeout=7)
    requests_mock.get(ORDER_URL, json={"orderId": ORDER})
    hook = VtexHook()
    session = hook.get_conn()
    hook.get_order(ORDER)
    hook.get_order(ORDER)
    assert hook.get_conn() is session
    for sent in requests_mock.request_history:
        assert sent.headers["X-VTEX-API-AppKey"] == "KEY"
        assert sent.headers["X-VTEX-API-AppToken"] == "TOKEN"
        assert sent.headers["Accept"] == "application/json"
        assert sent.headers["Content-Type"] == "application/json"
        assert sent.headers["User-Agent"].startswith("airflow-provider-vtex/")
        assert sent.timeout == 7.0


def test_proxies_and_ca_bundle_of_the_environment_are_resolved_once_and_used(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "other.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate-ca.pem")
    vtex_connection()
    requests_mock.get(ORDER_URL, json={"orderId": ORDER})
    hook = VtexHook()
    hook.get_conn()
    # Built: later changes to the environment are not scanned per request any more.
    monkeypatch.setattr("requests.utils.get_environ_proxies", lambda *a, **k: pytest.fail("scanned again"))
    monkeypatch.setattr("requests.utils.should_bypass_proxies", lambda *a, **k: pytest.fail("scanned again"))
    hook.get_order(ORDER)
    hook.get_order(ORDER)
    sent = requests_mock.request_history[-1]
    assert sent.proxies.get("https") == "http://proxy.internal:3128"
    assert sent.verify == "/etc/ssl/corporate-ca.pem"


def test_no_proxy_and_the_verify_extra_win(
    vtex_connection: Callable[..., str],
    requests_mock: rm.Mocker,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    ca = tmp_path / "sandbox-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", ".vtexcommercestable.com.br")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate-ca.pem")
    vtex_connection(verify=str(ca))
    requests_mock.get(ORDER_URL, json={"orderId": ORDER})
    VtexHook().get_order(ORDER)
    sent = requests_mock.request_history[-1]
    assert not sent.proxies.get("https")
    assert sent.verify == str(ca)


# ---------------------------------------------------------------- path values cannot steer the route
@pytest.mark.parametrize(
    "order_id",
    [".", "..", "../../x", "a/b", "a?b=c", "x#y", "a b", "a%2Fb", "é", "x" * 10_000, "", "ORD-1\n"],
    ids=repr,
)
def test_order_ids_that_could_change_the_route_are_refused_before_any_request(
    hook: VtexHook, requests_mock: rm.Mocker, order_id: str
) -> None:
    with pytest.raises(VtexPayloadError) as caught:
        hook.get_order(order_id)
    assert "order_id" in str(caught.value)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("number", [".", "..", "NF/1", "NF 1", "NF#1", "NF-1\n", "N" * 101], ids=repr)
def test_invoice_numbers_that_could_change_the_route_are_refused(
    hook: VtexHook, requests_mock: rm.Mocker, number: str
) -> None:
    with pytest.raises(VtexPayloadError, match="invoice"):
        hook.update_tracking_status(ORDER, number, {"events": []})
    assert requests_mock.call_count == 0


# ---------------------------------------------------------------- retries and waits
@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 429, "headers": {"Retry-After": "0"}},
        {"status_code": 500},
        {"status_code": 502},
        {"status_code": 503},
        {"status_code": 504},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
        {"exc": dropped()},
        {"exc": requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(3 bytes read)")},
    ],
    ids=["429", "500", "502", "503", "504", "read-timeout", "dropped", "truncated"],
)
def test_reads_are_retried_after_transient_failures(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, failure: dict[str, Any]
) -> None:
    requests_mock.get(ORDER_URL, [failure, failure, {"json": {"orderId": ORDER}}])
    assert hook.get_order(ORDER) == {"orderId": ORDER}
    assert requests_mock.call_count == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, status: int
) -> None:
    requests_mock.get(ORDER_URL, status_code=status, json=vtex_error("OMS001", "nope"))
    with pytest.raises((VtexBadRequestError, VtexAuthError, VtexNotFoundError)) as caught:
        hook.get_order(ORDER)
    assert requests_mock.call_count == 1
    assert caught.value.http_status == status
    assert (caught.value.error_code, caught.value.error_message) == ("OMS001", "nope")
    assert "'OMS001'" in str(caught.value)
    assert not caught.value.retryable
    assert clock.sleeps == []


def test_retry_after_seconds_and_dates_are_honoured(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    # A date 20 s ahead: urllib3 measures it against the real clock, and on a busy machine seconds of real
    # time can pass before the second answer is read (the first request loads the contract checker).
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    requests_mock.get(
        ORDER_URL,
        [
            {"status_code": 429, "headers": {"Retry-After": "3"}},
            {"status_code": 429, "headers": {"Retry-After": when}},
            {"status_code": 429, "headers": {"Retry-After": "0.004"}},  # not delta-seconds: backoff instead
            {"json": {"orderId": ORDER}},
        ],
    )
    hook.get_order(ORDER)
    first, second, third, paused = clock.sleeps
    assert first == 3.0
    assert 10.0 <= second <= 20.0  # the date, not a backoff step (at most 1 s at the second retry)
    assert 0.5 <= third <= 2.0  # the third backoff step of 0.5 s, between half and all of 2 s
    # With no usable Retry-After the account stays paused for VTEX's advised minute, this caller included,
    # cut to backoff_max (30 s here), the hook's cap on any single wait.
    assert third + paused == pytest.approx(30.0)


def test_a_single_wait_is_capped(hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock) -> None:
    hook.backoff_max = 2
    requests_mock.get(
        ORDER_URL, [{"status_code": 429, "headers": {"Retry-After": "3600"}}, {"json": {"orderId": ORDER}}]
    )
    hook.get_order(ORDER)
    assert clock.sleeps == [2.0]


def test_backoff_grows_exponentially_with_jitter() -> None:
    policy = RetryPolicy(max_retries=8, backoff_initial=1, backoff_max=1000)
    for retry in range(1, 9):
        step = 2 ** (retry - 1)
        waits = [policy.backoff(retry) for _ in range(200)]
        assert all(step / 2 <= wait <= step for wait in waits)  # a flat or shrinking wait fails here
        assert len(set(waits)) > 100  # jittered, so many clients do not retry in step


def test_every_wait_is_logged_with_reason_and_length(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock, caplog: Any, capsys: Any
) -> None:
    requests_mock.get(
        ORDER_URL, [{"status_code": 429, "headers": {"Retry-After": "0"}}, {"json": {"orderId": ORDER}}]
    )
    with caplog.at_level(logging.INFO):
        hook.get_order(ORDER)
    logged = caplog.text + capsys.readouterr().out  # Airflow 2 logs via logging, Airflow 3 via structlog
    (line,) = {line[line.index("VTEX GET") :] for line in logged.splitlines() if "waiting" in line}
    assert "HTTP 429" in line
    assert "0.00 s (Retry-After)" in line
    assert "attempt 1 of 6" in line


def test_exhausted_retries_say_so_and_what_vtex_last_answered(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    vtex_connection(max_retries=2)
    requests_mock.get(ORDER_URL, status_code=503, json=vtex_error("CB", "circuit open"))
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        VtexHook().get_order(ORDER)
    assert requests_mock.call_count == 3
    assert "after 3 attempt(s)" in str(caught.value)
    assert "503" in str(caught.value)
    assert "circuit open" in str(caught.value)
    assert isinstance(caught.value.last_error, VtexServerError)


def test_one_deadline_bounds_every_wait_of_a_call(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    vtex_connection(max_retries=50)
    requests_mock.get(ORDER_URL, status_code=429, headers={"Retry-After": "4"})
    with pytest.raises(VtexRetriesExhaustedError, match="time budget"):
        VtexHook(max_total_wait=10).get_order(ORDER)
    assert clock.slept <= 10
    assert clock.sleeps == [4.0, 4.0]


# ---------------------------------------------------------------- what errors say
@pytest.mark.parametrize(
    ("call", "url", "method", "resource"),
    [
        (
            lambda h: h.notify_tracking(
                ORDER,
                "NF-1",
                {
                    "trackingNumber": "x",
                    "courier": "c",
                    "trackingUrl": "u",
                    "dispatchedDate": "2024-01-01T10:00:00Z",
                },
            ),
            f"{ORDER_URL}/invoice/NF-1",
            "PATCH",
            "Notify invoice",
        ),
        (lambda h: h.get_order(ORDER), ORDER_URL, "GET", "View order"),
        (
            lambda h: h.start_handling(ORDER),
            f"{ORDER_URL}/start-handling",
            "POST",
            "Change order workflow status",
        ),
    ],
    ids=["tracking", "get-order", "start-handling"],
)
def test_403_names_the_license_manager_resource(
    hook: VtexHook, requests_mock: rm.Mocker, call: Any, url: str, method: str, resource: str
) -> None:
    requests_mock.register_uri(method, url, status_code=403, json=vtex_error("403", "Forbidden"))
    with pytest.raises(VtexAuthError) as caught:
        call(hook)
    assert f"License Manager resource '{resource}'" in str(caught.value)


def test_401_points_at_the_credentials(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(ORDER_URL, status_code=401, json=vtex_error("1", "Unauthorized access"))
    with pytest.raises(VtexAuthError, match=r"App Key/App Token of connection 'vtex_default' were rejected"):
        hook.get_order(ORDER)


def test_an_answer_quoting_the_credentials_is_scrubbed_everywhere(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    vtex_connection(login="vtexappkey-mystore-ABCDEF", password="Zq81-secret-token")
    echo = "headers were X-VTEX-API-AppKey: vtexappkey-mystore-ABCDEF X-VTEX-API-AppToken: Zq81-secret-token"
    requests_mock.get(
        ORDER_URL, status_code=400, json=vtex_error("Zq81-secret-token", echo), reason="Zq81-secret-token"
    )
    with pytest.raises(VtexBadRequestError) as caught:
        VtexHook().get_order(ORDER)
    error = caught.value
    for text in (str(error), error.error_message or "", error.error_code or ""):
        assert "Zq81-secret-token" not in text
        assert "vtexappkey-mystore-ABCDEF" not in text
    assert "X-VTEX-API-AppToken: ***" in str(error)


def test_an_html_page_instead_of_json_is_a_clear_error(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        ORDER_URL, text="<html><body>Login</body></html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(VtexUnexpectedResponseError) as caught:
        hook.get_order(ORDER)
    assert "text/html body instead of JSON" in str(caught.value)
    assert "<html><body>Login</body></html>" in str(caught.value)


def test_an_html_error_page_is_quoted_briefly(hook: VtexHook, requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        ORDER_URL,
        status_code=404,
        text="<html>" + "x" * 1000 + "</html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(VtexNotFoundError) as caught:
        hook.get_order(ORDER)
    assert "text/html body" in str(caught.value)
    assert len(str(caught.value)) < 800


def test_an_unreachable_host_is_a_transport_error(vtex_connection: Callable[..., str]) -> None:
    vtex_connection(base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        VtexHook().get_order(ORDER)
    assert isinstance(caught.value.last_error, VtexTransportError)
    assert "request not sent" in str(caught.value)


def test_a_refused_connection_is_retried_even_for_a_write(
    hook: VtexHook, requests_mock: rm.Mocker, clock: FakeClock
) -> None:
    requests_mock.post(
        f"{ORDER_URL}/start-handling",
        [{"exc": refused()}, {"exc": requests.exceptions.ConnectTimeout("slow")}, {"status_code": 204}],
    )
    hook.start_handling(ORDER)
    assert requests_mock.call_count == 3
