"""The AppKey and AppToken never leave the clients, whatever form a server echoes them in.

Property-based: any token of the alphabet a connection allows (visible ASCII, see
``client/config.py``), echoed raw, percent-encoded, JSON-escaped, HTML-escaped or base64'd (as a
Basic ``Authorization`` of ``key:token``), on every way an answer or a request error becomes a
message, through the hook's requests client and the triggers' httpx client alike; and (issue 26)
upper- or lower-cased, split by line breaks or spaces, inside a JSON error whose ``message`` is an
object (quoted as Python's ``repr``), and in successful answers, which become results and XComs.
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
from airflow_provider_vtex.client.rules import Answer, AnswerRules, RetryPolicy
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


# ---------------------------------------------------------------- case, splits, repr, successful answers
#: What a server (or the masker's blind spot) does to an echo before encoding it: ``(token, where) -> echo``.
TRANSFORMS: dict[str, Callable[[str, int], str]] = {
    "as is": lambda t, at: t,
    "upper-cased": lambda t, at: t.upper(),
    "lower-cased": lambda t, at: t.lower(),
    "case swapped": lambda t, at: t.swapcase(),
    "split by \\n": lambda t, at: _split(t, [at], "\n"),
    "split by \\r\\n": lambda t, at: _split(t, [at], "\r\n"),
    "split by spaces": lambda t, at: _split(t, [at], "  "),
    "split twice, upper-cased": lambda t, at: _split(t, [at, at + 3], "\r\n").upper(),
}


def _split(token: str, places: list[int], gap: str) -> str:
    """``token`` with ``gap`` inserted between two of its characters at each place (wrapped to fit)."""
    cuts = sorted({1 + place % (len(token) - 1) for place in places})
    return gap.join(token[start:end] for start, end in zip([0, *cuts], [*cuts, len(token)], strict=True))


#: The encodings of a whole token (base64 is of the token itself: a changed token is another secret).
TEXT_ENCODINGS: dict[str, Callable[[str], str]] = {
    **{name: encode for name, encode in ENCODINGS.items() if not name.startswith("base64")},
    "python repr": lambda t: repr(t)[1:-1],
    "python repr in JSON": lambda t: json.dumps(repr(t)[1:-1])[1:-1],
    "json of json": lambda t: json.dumps(json.dumps(t)[1:-1])[1:-1],
}
#: Each answer the echo comes in: ``echo -> (status, JSON body)``.
ANSWERS: dict[str, Callable[[str], tuple[int, Any]]] = {
    "JSON error message": lambda echo: (400, {"error": {"code": "X1", "message": f"AppToken: {echo}"}}),
    "JSON error whose message is an object": lambda echo: (
        400,
        {"error": {"code": "X1", "message": {"detail": f"bad header {echo}", "headers": {"t": echo}}}},
    ),
    "top-level message object": lambda echo: (500, {"message": {"X-VTEX-API-AppToken": echo}}),
    "200 echoing it in receipt": lambda echo: (
        200,
        {"date": "2024-01-01", "orderId": ORDER, "receipt": echo},
    ),
    "200 echoing it in a key and a list": lambda echo: (200, {"orderId": ORDER, echo: [1, {"x": echo}]}),
}


def _said(rules: AnswerRules, status: int, body: Any) -> str:
    """Everything a message, a result or an XCom could hold of this answer, through the rules both
    clients share (the tests above show both go through them)."""
    answer = Answer(
        status,
        "OK" if status == 200 else "Bad",
        {"Content-Type": "application/json"},
        json.dumps(body).encode(),
    )
    try:
        return json.dumps(rules.interpret(answer, "GET", PATH, ROUTE))
    except VtexError as exc:
        return _everything_said(exc)


@functools.cache
def _answer_baseline(answer: str) -> str:
    return _said(AnswerRules("vtex_default", Scrubber(["unused-secret"])), *ANSWERS[answer]("***"))


@settings(max_examples=250, deadline=None)
@given(
    token=TOKENS,
    transform=st.sampled_from(list(TRANSFORMS)),
    encoding=st.sampled_from(list(TEXT_ENCODINGS)),
    answer=st.sampled_from(list(ANSWERS)),
    at=st.integers(min_value=1, max_value=7),
)
def test_a_changed_or_split_echo_is_scrubbed_from_errors_and_successful_answers(
    token: str, transform: str, encoding: str, answer: str, at: int
) -> None:
    baseline = _answer_baseline(answer)
    changed = TRANSFORMS[transform](token, at)
    echo = TEXT_ENCODINGS[encoding](changed)
    assume(token.lower() not in baseline.lower() and KEY.lower() not in echo.lower())
    said = _said(AnswerRules("vtex_default", Scrubber([token, KEY])), *ANSWERS[answer](echo))
    assert said == baseline, "the echo was not replaced by *** exactly where it stood"
    assert token.lower() not in said.lower()


def test_the_quick_test_of_a_successful_answer_lets_an_answer_without_secrets_through_unchanged() -> None:
    scrub = Scrubber([TOKEN, KEY])
    order = {
        "orderId": ORDER,
        "items": [{"name": "Tênis 42 & co 10%", "price": 2499}] * 50,
        "status": "invoiced",
    }
    raw = json.dumps(order, ensure_ascii=False)
    assert not scrub.may_hold(raw)
    assert scrub.value(order, raw=raw) is order
    assert scrub.may_hold(raw.replace("invoiced", TOKEN.upper()))


@pytest.mark.parametrize("size", [10_000, 3_000_000])
def test_a_huge_error_message_is_quoted_bounded_and_scrubbed(size: int) -> None:
    rules = AnswerRules("vtex_default", Scrubber([TOKEN, KEY]))
    for message in ("x" * size + TOKEN, TOKEN.upper() + " y" * size, "z" * 290 + TOKEN + "w" * size):
        said = _said(rules, 400, {"error": {"code": "C" * size, "message": message}})
        assert len(said) < 3_000
        assert TOKEN.lower() not in said.lower()
        assert TOKEN[:8].lower() not in said.lower()  # no half of an echo the quote cut


def test_an_invoice_whose_200_echoes_the_token_in_receipt_leaves_none_in_the_xcom(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

    vtex_connection(login=KEY, password=TOKEN)
    echo = quote(TOKEN.upper(), safe="")
    requests_mock.get(ORDER_URL, json={"orderId": ORDER, "status": "handling", "packageAttachment": {}})
    requests_mock.post(
        f"{ORDER_URL}/invoice", json={"date": "2024-01-01", "orderId": ORDER, "receipt": f"r-{echo}"}
    )
    operator = InvoiceNotificationOperator(
        task_id="invoice",
        order_id=ORDER,
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-1",
            "invoiceValue": 100,
            "issuanceDate": "2024-01-31T18:25:43-03:00",
            "items": [{"id": "1", "price": 100, "quantity": 1}],
        },
    )
    xcom = operator.execute({})  # type: ignore[arg-type]
    assert xcom["receipt"] == "r-***"
    assert TOKEN.lower() not in json.dumps(xcom).lower()
    assert echo not in json.dumps(xcom)


@pytest.mark.parametrize("split", ["\n", "\r\n", " "])
def test_the_sensors_trigger_event_carries_no_changed_or_split_token(
    split: str, vtex_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status VTEX answers (200) and an error whose message is an object (401) both reach the event."""
    from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

    vtex_connection(login=KEY, password=TOKEN)
    echo = TOKEN[:6] + split + TOKEN[6:].upper()
    answers = iter(
        [
            httpx.Response(200, json={"orderId": ORDER, "status": f"odd-{echo}"}),
            httpx.Response(401, json={"error": {"code": "1", "message": {"headers": {"token": echo}}}}),
        ]
    )
    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(lambda request: next(answers)),
    )

    async def events() -> list[Any]:
        seen = []
        for statuses in ([f"odd-{echo}", "odd-***"], ["invoiced"]):
            trigger = VtexOrderStatusTrigger(order_id=ORDER, statuses=statuses, poll_interval=0)
            async for event in trigger.run():
                seen.append(event.payload)
                break
        return seen

    success, failure = asyncio.run(events())
    assert success == {"status": "success", "order_id": ORDER, "order_status": "odd-***"}
    assert failure["status"] == "failed"
    said = json.dumps([success, failure])
    assert TOKEN.lower() not in said.lower().replace(split.lower(), "")
    assert TOKEN[6:].upper() not in said


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "1", "message": {"detail": f"token {TOKEN.upper()}"}}},
        {"message": f"token {TOKEN[:5]}\r\n{TOKEN[5:]}"},
    ],
)
def test_test_connection_carries_no_changed_split_or_repr_token(
    body: dict[str, Any], vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    vtex_connection(login=KEY, password=TOKEN)
    requests_mock.get(f"{BASE}/api/oms/pvt/orders", status_code=401, json=body)
    ok, message = VtexHook().test_connection()
    assert not ok
    assert TOKEN.lower() not in message.lower()
    assert TOKEN[5:] not in message


def test_a_successful_answer_of_the_async_face_is_scrubbed_too(
    vtex_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    vtex_connection(login=KEY, password=TOKEN)
    body = {"orderId": ORDER, "status": "invoiced", "clientProfileData": {"note": TOKEN.lower()}}
    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
    )

    async def read() -> dict[str, Any]:
        hook = VtexHook()
        try:
            return await hook.aget_order(ORDER)
        finally:
            await hook.aclose()

    assert asyncio.run(read())["clientProfileData"] == {"note": "***"}
