"""The AppKey and AppToken never leave the clients, whatever form a server echoes them in.

Property-based: any token of the alphabet a connection allows (visible ASCII, see
``client/config.py``), echoed raw, percent-encoded, JSON-escaped, HTML-escaped or base64'd (as a
Basic ``Authorization`` of ``key:token``), on every way an answer or a request error becomes a
message, through the hook's requests client and the triggers' httpx client alike.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import requests
import requests_mock as rm
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airflow_provider_vtex.client.async_transport import AsyncVtexClient
from airflow_provider_vtex.client.config import VtexConnectionConfig
from airflow_provider_vtex.client.routes import route_for
from airflow_provider_vtex.client.rules import RetryPolicy
from airflow_provider_vtex.client.scrub import Scrubber, secret_forms
from airflow_provider_vtex.client.transport import VtexClient
from airflow_provider_vtex.exceptions import VtexError

KEY = "vtexappkey-mystore-QWERTY"
BASE = "https://mystore.vtexcommercestable.com.br"
ROUTE = route_for("standard", "get_order")
PATH = ROUTE.path(order_id="1172452900788-01")
#: What the connection accepts as a token: visible ASCII (``_HEADER_SAFE`` in client/config.py). At least
#: 8 characters: a shorter one is part of the fixed text of most messages (real tokens are ~100).
TOKENS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40)

ENCODINGS: dict[str, Callable[[str], str]] = {
    "raw": lambda t: t,
    "quote": quote,
    "quote safe=''": lambda t: quote(t, safe=""),
    "quote lower-case hex": lambda t: "".join(f"%{ord(c):02x}" if not c.isalnum() else c for c in t),
    "quote_plus": quote_plus,
    "percent-encoded twice": lambda t: quote(quote(t, safe=""), safe=""),
    "json.dumps": lambda t: json.dumps(t)[1:-1],
    "json with \\/": lambda t: json.dumps(t)[1:-1].replace("/", "\\/"),
    "json \\uXXXX": lambda t: "".join(f"\\u{ord(c):04X}" for c in t),
    "html.escape": html.escape,
    "html numeric": lambda t: "".join(f"&#{ord(c)};" for c in t),
    "base64 key:token": lambda t: base64.b64encode(f"{KEY}:{t}".encode()).decode(),
    "base64url token": lambda t: base64.urlsafe_b64encode(t.encode()).decode().rstrip("="),
}

#: Each way an echo reaches a message: (status, headers, body) of the answer, or a transport error.
PATHS: dict[str, Callable[[str], dict[str, Any]]] = {
    "JSON error message": lambda echo: {
        "status": 400,
        "json": {"error": {"code": "X1", "message": f"bad request; headers: X-VTEX-API-AppToken: {echo}"}},
    },
    "JSON error code": lambda echo: {"status": 403, "json": {"error": {"code": echo, "message": "no"}}},
    "text body of a 500": lambda echo: {"status": 500, "text": f"upstream: AppToken={echo} failed"},
    "HTML page of a 502": lambda echo: {"status": 502, "text": f"<html><pre>token: {echo}</pre></html>"},
    "200 that is not JSON": lambda echo: {"status": 200, "text": f"<p>login {echo}</p>"},
    "redirect Location": lambda echo: {
        "status": 302,
        "headers": {"Location": f"https://x.example/?t={echo}"},
    },
    "reason phrase": lambda echo: {"status": 401, "reason": f"Bad token {echo}", "text": ""},
    "transport error": lambda echo: {"exc": f"proxy refused X-VTEX-API-AppToken: {echo}"},
}


def _config(token: str) -> VtexConnectionConfig:
    return VtexConnectionConfig(
        conn_id="vtex_default",
        app_key=KEY,
        app_token=token,
        account="mystore",
        environment="vtexcommercestable",
        base_url=BASE,
        timeout=5,
        max_retries=0,
        verify=False,  # no TLS here (mocked transports); loading the CA bundle per example is slow
    )


def _sync_failure(token: str, answer: dict[str, Any]) -> VtexError:
    client = VtexClient(_config(token), RetryPolicy(max_retries=0))
    with rm.Mocker() as mocker:
        if "exc" in answer:
            mocker.get(BASE + PATH, exc=requests.exceptions.ConnectionError(answer["exc"]))
        else:
            mocker.get(BASE + PATH, **{"status_code": answer["status"], **_without(answer, "status")})
        with pytest.raises(VtexError) as caught:
            client.request(ROUTE, PATH)
    return caught.value


def _async_failure(token: str, answer: dict[str, Any]) -> VtexError:
    def handler(request: httpx.Request) -> httpx.Response:
        if "exc" in answer:
            raise httpx.ConnectError(answer["exc"], request=request)
        extensions = {"reason_phrase": answer["reason"].encode()} if "reason" in answer else None
        return httpx.Response(
            answer["status"],
            headers=answer.get("headers"),
            json=answer.get("json"),
            text=answer.get("text") if "json" not in answer else None,
            extensions=extensions,
        )

    async def run() -> VtexError:
        client = AsyncVtexClient(_config(token), RetryPolicy(max_retries=0))
        client._client = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False)
        try:
            await client.request(ROUTE, PATH)
        except VtexError as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("the echo did not fail the call")

    return asyncio.run(run())


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def _everything_said(exc: VtexError) -> str:
    """The message and every attribute a caller (a result row, an XCom, a log line) could quote, with
    the timings (which differ from call to call) made equal."""
    said = " ".join([str(exc), repr(exc.args), *(str(value) for value in vars(exc).values())])
    return re.sub(r"\b[0-9]+(?:\.[0-9]+)? s\b", "N s", said)


@functools.cache
def _baseline(client: str, path: str) -> str:
    """What the message says when the echo is already "***": a token that happens to be part of that
    fixed text (say "vtex_def") would be scrubbed from it too, which proves nothing either way."""
    fail = _sync_failure if client.startswith("requests") else _async_failure
    return _everything_said(fail("unused-secret", PATHS[path]("***")))


@pytest.mark.parametrize("client", ["requests (hook)", "httpx (triggers)"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=TOKENS)
def test_an_echoed_token_is_scrubbed_in_every_form_on_every_error_path(
    client: str, path: str, encoding: str, token: str
) -> None:
    fail = _sync_failure if client.startswith("requests") else _async_failure
    baseline = _baseline(client, path)
    echo = ENCODINGS[encoding](token)
    assume(token not in baseline and echo not in baseline and KEY not in echo)
    said = _everything_said(fail(token, PATHS[path](echo)))
    assert said == baseline, "the echo was not replaced by *** exactly where it stood"
    assert echo not in said
    assert token not in said
    assert KEY not in said


@given(token=TOKENS)
@settings(max_examples=50, deadline=None)
def test_every_listed_form_is_scrubbed(token: str) -> None:
    scrub = Scrubber([token, KEY])
    for form in secret_forms([token, KEY]):
        assert scrub(f"<{form}>") == "<***>"


def test_the_hook_registers_every_form_with_airflows_secrets_masker(
    vtex_connection: Callable[..., str],
) -> None:
    try:  # the masker mask_secret feeds
        from airflow.sdk.log import _secrets_masker  # type: ignore[attr-defined]
    except ImportError:  # Airflow 2 (mypy checks 3.3's names)
        from airflow.utils.log.secrets_masker import _secrets_masker  # type: ignore[no-redef]

    from airflow_provider_vtex.hooks.vtex import VtexHook

    token = "tok/Zq9+SEcret/7781xyz"
    vtex_connection(password=token, login=KEY)
    assert VtexHook().config.app_token == token
    for name, encode in ENCODINGS.items():
        echo = encode(token)
        if name in (
            "raw",
            "quote",
            "quote safe=''",
            "quote_plus",
            "json.dumps",
            "json with \\/",
            "html.escape",
        ):
            assert echo not in str(_secrets_masker().redact(f"task log: {echo} ."))
    assert base64.b64encode(f"{KEY}:{token}".encode()).decode() not in str(
        _secrets_masker().redact(
            f"Authorization: Basic {base64.b64encode(f'{KEY}:{token}'.encode()).decode()}"
        )
    )


# ---------------------------------------------------------------- every path a task reports on
TOKEN = "tok/Zq9+SEcret/7781xyz"
ORDER = "1172452900788-01"
ORDER_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}"
#: The forms the issue saw leak: percent-encoded (a proxy) and JSON-escaped with \/ (a framework).
ECHOES = [quote(TOKEN, safe=""), json.dumps(TOKEN)[1:-1].replace("/", "\\/"), quote_plus(TOKEN)]


def _echo_body(echo: str) -> dict[str, Any]:
    return {
        "error": {"code": "400", "message": f"Headers: X-VTEX-API-AppKey={KEY}; X-VTEX-API-AppToken={echo}"}
    }


def _leaks(text: str) -> list[str]:
    return [form for form in (TOKEN, KEY, *ECHOES) if form in text]


@pytest.mark.parametrize("echo", ECHOES)
def test_bulk_results_and_the_task_failure_carry_no_form_of_the_token(
    echo: str, vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    from unittest import mock

    from airflow_provider_vtex.compat import AirflowFailException
    from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

    vtex_connection(login=KEY, password=TOKEN)
    requests_mock.post(f"{ORDER_URL}/invoice", status_code=400, json=_echo_body(echo))
    invoice = {
        "type": "Output",
        "invoiceNumber": "NF-1",
        "invoiceValue": 100,
        "issuanceDate": "2024-01-31T18:25:43-03:00",
        "items": [{"id": "1", "price": 100, "quantity": 1}],
    }
    ti = mock.Mock(try_number=1)
    bulk = BulkInvoiceNotificationOperator(
        task_id="bulk", invoices=[{"order_id": ORDER, "invoice": invoice}], check_existing="on_retry"
    )
    with pytest.raises(AirflowFailException) as failed:
        bulk.execute({"ti": ti})  # type: ignore[arg-type]
    (results,) = [
        call.kwargs["value"] for call in ti.xcom_push.call_args_list if call.kwargs["key"] == "results"
    ]
    assert "X-VTEX-API-AppToken=***" in results[0]["error"]  # the echo reached the row, scrubbed
    assert _leaks(json.dumps(results) + str(failed.value)) == []


@pytest.mark.parametrize("echo", ECHOES)
def test_the_sensor_triggers_failure_message_carries_no_form_of_the_token(
    echo: str, vtex_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

    vtex_connection(login=KEY, password=TOKEN)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json=_echo_body(echo))

    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(handler),
    )

    async def first_event() -> Any:
        trigger = VtexOrderStatusTrigger(order_id=ORDER, statuses=["invoiced"])
        async for event in trigger.run():
            return event.payload
        return None

    event = asyncio.run(first_event())
    assert event["status"] == "failed"
    assert "X-VTEX-API-AppToken=***" in event["message"]
    assert _leaks(json.dumps(event)) == []


@pytest.mark.parametrize("echo", ECHOES)
def test_test_connection_carries_no_form_of_the_token(
    echo: str, vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    vtex_connection(login=KEY, password=TOKEN)
    requests_mock.get(f"{BASE}/api/oms/pvt/orders", status_code=500, json=_echo_body(echo))
    ok, message = VtexHook().test_connection()
    assert not ok
    assert "X-VTEX-API-AppToken=***" in message
    assert _leaks(message) == []


@pytest.mark.parametrize("echo", ECHOES)
def test_the_feed_triggers_reads_carry_no_form_of_the_token(
    echo: str, vtex_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed trigger (triggers/order_feed.py) reads through VtexHook.aget_feed_items and reports the
    error it raises: that error is what must be clean."""
    from airflow_provider_vtex.hooks.vtex import VtexHook

    vtex_connection(login=KEY, password=TOKEN)
    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(lambda request: httpx.Response(403, json=_echo_body(echo))),
    )

    async def read() -> VtexError:
        hook = VtexHook(max_retries=0)
        try:
            await hook.aget_feed_items()
        except VtexError as exc:
            return exc
        finally:
            await hook.aclose()
        raise AssertionError("the 403 did not fail the read")

    failure = asyncio.run(read())
    assert "X-VTEX-API-AppToken=***" in str(failure)
    assert _leaks(_everything_said(failure)) == []
