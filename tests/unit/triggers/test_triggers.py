"""The triggerer side: the async client follows the hook's rules, and VtexOrderStatusTrigger serializes and
fires as the deferrable sensor needs. Real HTTP against the sandbox, run on an asyncio event loop.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from airflow_provider_vtex.exceptions import (
    VtexNotFoundError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
)
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger
from vtex_sandbox import Fault, VtexSandbox

ORDER = "70caf3941s6df1"
FAST: dict[str, Any] = {"backoff_initial": 0.01, "backoff_max": 0.05, "max_retries": 3}


def collect(events: AsyncIterator[Any]) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in events]

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def aget_order(hook: VtexHook, order_id: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        try:
            return await hook.aget_order(order_id)
        finally:
            await hook.aclose()

    return asyncio.run(run())


# ---------------------------------------------------------------- the async client
def test_the_async_client_reads_an_order_with_the_connection_headers(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    order = aget_order(VtexHook(**FAST), ORDER)
    assert order["orderId"] == ORDER
    (logged,) = vtex_sandbox_connection.requests
    assert logged["headers"]["User-Agent"].startswith("airflow-provider-vtex/")
    assert logged["headers"]["X-VTEX-API-AppKey"] == vtex_sandbox_connection.app_key


def test_the_async_client_waits_out_429_and_503_like_the_hook(vtex_sandbox_connection: VtexSandbox) -> None:
    vtex_sandbox_connection.add_fault(Fault("get_order", "rate_limit", count=1, retry_after=0))
    vtex_sandbox_connection.add_fault(Fault("get_order", "status", status=503, count=1))
    assert aget_order(VtexHook(**FAST), ORDER)["orderId"] == ORDER
    assert vtex_sandbox_connection.count(method="GET", route="get_order") == 3


def test_the_async_client_maps_errors_and_gives_up_as_the_hook_does(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    with pytest.raises(VtexNotFoundError, match="Order Not Found"):
        aget_order(VtexHook(**FAST), "no-such-order")
    vtex_sandbox_connection.add_fault(Fault("get_order", "status", status=503))
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        aget_order(VtexHook(**FAST), ORDER)
    assert isinstance(caught.value.last_error, VtexServerError)
    assert vtex_sandbox_connection.count(method="GET", route="get_order", order_id=ORDER) == 4


def test_a_truncated_answer_is_a_transport_error_that_may_have_been_applied(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    vtex_sandbox_connection.add_fault(Fault("get_order", "truncated_after_commit"))
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        aget_order(VtexHook(**FAST), ORDER)
    cause = caught.value.last_error
    assert isinstance(cause, VtexTransportError)
    assert cause.request_sent


@pytest.mark.vtex_sandbox(tls=True)
def test_the_async_client_trusts_the_verify_extra(vtex_sandbox_connection: VtexSandbox) -> None:
    assert aget_order(VtexHook(**FAST), ORDER)["orderId"] == ORDER


def test_an_unreachable_host_is_reported_as_not_sent(vtex_connection: Any) -> None:
    vtex_connection(base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(VtexRetriesExhaustedError) as caught:
        aget_order(VtexHook(), ORDER)
    assert isinstance(caught.value.last_error, VtexTransportError)
    assert not caught.value.last_error.request_sent


def test_an_answer_quoting_the_token_is_scrubbed(
    vtex_sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(vtex_sandbox.airflow_connection())
    conn["password"] = "wrong-token-Zq81-xyz"
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(conn))
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error: what matters is its text
        aget_order(VtexHook(**FAST), ORDER)
    assert "wrong-token-Zq81-xyz" not in str(caught.value)


# ---------------------------------------------------------------- the trigger
def test_the_trigger_serializes_to_what_rebuilds_it() -> None:
    trigger = VtexOrderStatusTrigger(
        "ORD-1",
        ["ready-for-handling"],
        ["canceled"],
        vtex_conn_id="vtex_shop",
        hook_params={"max_retries": 2},
        poll_interval=5,
        end_time=1_900_000_000.0,
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert json.loads(json.dumps(kwargs)) == kwargs  # what the triggerer stores in the metadata database


def test_the_trigger_yields_the_event_class_airflows_triggerer_takes(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    """The triggerer hands on only what is an instance of its own ``TriggerEvent``."""
    from airflow.jobs import triggerer_job_runner as triggerer

    vtex_sandbox_connection.set_status(ORDER, "ready-for-handling")
    trigger = VtexOrderStatusTrigger(ORDER, ["ready-for-handling"], hook_params=FAST, poll_interval=0.05)

    async def first() -> Any:
        return await anext(aiter(trigger.run()))

    event = asyncio.run(asyncio.wait_for(first(), timeout=60))
    assert isinstance(event, triggerer.TriggerEvent)
    assert event.payload["status"] == "success"


def approve_after(sandbox: VtexSandbox, reads: int, status: str = "ready-for-handling") -> threading.Thread:
    """VTEX approves the payment once the order was read ``reads`` times."""

    def approve() -> None:
        deadline = time.monotonic() + 30
        while sandbox.count(method="GET", route="get_order") < reads and time.monotonic() < deadline:
            time.sleep(0.02)
        sandbox.set_status(ORDER, status)

    thread = threading.Thread(target=approve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(("final", "expected"), [("ready-for-handling", "success"), ("canceled", "failed")])
def test_the_trigger_fires_when_the_order_changes(
    vtex_sandbox_connection: VtexSandbox, final: str, expected: str
) -> None:
    vtex_sandbox_connection.set_status(ORDER, "payment-pending")
    approver = approve_after(vtex_sandbox_connection, reads=2, status=final)
    trigger = VtexOrderStatusTrigger(
        ORDER, ["ready-for-handling"], ["canceled"], hook_params=FAST, poll_interval=0.05
    )
    (event,) = collect(trigger.run())
    approver.join()
    assert event["status"] == expected
    assert event["order_id"] == ORDER
    assert vtex_sandbox_connection.count(method="GET", route="get_order") >= 3


def test_the_trigger_fails_at_once_for_an_unknown_order_and_times_out(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    (unknown,) = collect(
        VtexOrderStatusTrigger("no-such-order", ["ready-for-handling"], hook_params=FAST).run()
    )
    assert unknown["status"] == "failed"
    assert "Order Not Found" in unknown["message"]
    vtex_sandbox_connection.set_status(ORDER, "payment-pending")
    trigger = VtexOrderStatusTrigger(
        ORDER, ["ready-for-handling"], hook_params=FAST, poll_interval=0.05, end_time=time.time() + 0.3
    )
    (timeout,) = collect(trigger.run())
    assert timeout["status"] == "timeout"


def test_the_trigger_waits_out_an_outage(vtex_sandbox_connection: VtexSandbox) -> None:
    vtex_sandbox_connection.add_fault(Fault("get_order", "status", status=503, count=6))
    trigger = VtexOrderStatusTrigger(
        ORDER, ["ready-for-handling"], hook_params={**FAST, "max_retries": 0}, poll_interval=0.02
    )
    (event,) = collect(trigger.run())
    assert event["status"] == "success"
