"""VtexChangeRequestTrigger: it serializes for the triggerer, polls the change request through the hook's
async face (real HTTP against the sandbox) and fires once the request has ended, how it ended."""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.triggers.change_request import VtexChangeRequestTrigger
from vtex_sandbox import Fault, VtexSandbox

HANDLING = "1172452900789-01"
STOCKOUT = {"reason": "ERP stockout 9", "remove": {"items": [{"id": "3120", "quantity": 1}]}}
FAST: dict[str, Any] = {"backoff_initial": 0.01, "backoff_max": 0.05, "max_retries": 3}


def collect(events: AsyncIterator[Any]) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event.payload async for event in events]

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def trigger(request_id: str, **kwargs: Any) -> VtexChangeRequestTrigger:
    return VtexChangeRequestTrigger(HANDLING, request_id, hook_params=FAST, poll_interval=0.05, **kwargs)


def test_it_serializes_to_what_rebuilds_it() -> None:
    path, kwargs = trigger("abc", end_time=12.0).serialize()
    module, name = path.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)


def test_it_fires_success_once_the_request_is_done_through_outages(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    request_id = VtexHook().create_change(HANDLING, STOCKOUT).change_request_id
    assert request_id
    sandbox.add_fault(Fault("change_detail", "status", status=503, count=2))
    timer = threading.Timer(0.5, sandbox.advance_clock, args=(10,))
    timer.start()
    try:
        [event] = collect(trigger(request_id).run())
    finally:
        timer.cancel()

    assert (event["status"], event["change_status"], event["change_request_id"]) == (
        "success",
        "done",
        request_id,
    )


def test_it_fires_failed_for_a_request_stopped_on_an_error(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    request_id = VtexHook().create_change(HANDLING, STOCKOUT).change_request_id
    assert request_id
    sandbox.fail_changes(HANDLING)
    sandbox.advance_clock(10)

    [event] = collect(trigger(request_id).run())

    assert (event["status"], event["change_status"]) == ("failed", "error")
    assert "retry_change" in event["message"]


@pytest.mark.parametrize(("request_id", "status"), [("not-a-request", "failed"), (None, "timeout")])
def test_it_fires_failed_for_an_unknown_request_and_timeout_at_its_end(
    vtex_sandbox_connection: VtexSandbox, request_id: str | None, status: str
) -> None:
    if request_id is None:
        request_id = VtexHook().create_change(HANDLING, STOCKOUT).change_request_id or ""
    [event] = collect(trigger(request_id, end_time=time.time() + 0.3).run())
    assert event["status"] == status
