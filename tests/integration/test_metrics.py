"""The provider's metrics as a deployment receives them: StatsD pointed at a local UDP listener, a real
DAG run against the sandbox, and the lines that arrive checked by name, tags and value."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_vtex import metrics
from tests.integration.dag_runs import task_states

pytest.importorskip("statsd", reason="Airflow's StatsD logger needs the statsd package (the test extra)")


@pytest.fixture
def statsd_listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A UDP socket on a free port, with Airflow's [metrics] pointing StatsD (InfluxDB tag style) at it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    settings = {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(listener.getsockname()[1]),
        "STATSD_PREFIX": "airflow",
        "STATSD_INFLUXDB_ENABLED": "True",
    }
    for key, value in settings.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{key}", value)
    _initialize_airflow_stats()
    metrics.reset()
    try:
        yield listener
    finally:
        listener.close()
        for key in settings:
            monkeypatch.delenv(f"AIRFLOW__METRICS__{key}")
        _initialize_airflow_stats()
        metrics.reset()


def _initialize_airflow_stats() -> None:
    """What Airflow's task runner does at start: build the metrics backend from the configuration."""
    try:
        from airflow.sdk.observability import stats
        from airflow.sdk.observability.metrics import stats_utils
    except ImportError:  # Airflow 2.x, 3.0, 3.1 build it lazily from the configuration
        pytest.skip("the in-process metrics backend is re-initialised here for Airflow 3.2+ only")
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)


def received(listener: socket.socket) -> list[str]:
    lines: list[str] = []
    while True:
        try:
            packet = listener.recv(65535)
        except TimeoutError:
            return lines
        lines += packet.decode().splitlines()


def test_metrics_are_off_without_a_backend() -> None:
    metrics.reset()
    assert metrics.enabled() is False


@pytest.mark.airflow_dag
def test_a_dag_run_reports_requests_outcomes_and_the_feed(
    statsd_listener: socket.socket, vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.configure_feed(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
        }
    )
    sandbox.place_order("METRICS-01", status="payment-approved")
    sandbox.move_order("METRICS-01", "ready-for-handling")
    sandbox.add_fault("get_order", "rate_limit", count=1, retry_after=0)

    dag_run = run_dag("vtex_test_asset_events")  # start handling, invoice, tracking
    from airflow_provider_vtex.hooks.vtex import VtexHook

    hook = VtexHook()
    items = hook.get_feed_items()
    hook.commit_feed_items([item.handle for item in items])

    assert task_states(dag_run) == {
        "start_handling": ["success"],
        "invoice": ["success"],
        "tracking": ["success"],
    }
    lines = received(statsd_listener)
    assert "airflow.vtex.requests,route=get_order,status_class=4xx:1|c" in lines  # the 429
    assert "airflow.vtex.rate_limited,route=get_order:1|c" in lines
    assert "airflow.vtex.requests,route=invoice,status_class=2xx:1|c" in lines
    assert "airflow.vtex.requests,route=start_handling,status_class=2xx:1|c" in lines
    assert "airflow.vtex.invoices,outcome=sent:1|c" in lines
    assert any(line.startswith("airflow.vtex.request_duration,route=tracking_number:") for line in lines)
    assert f"airflow.vtex.feed.items_read:{len(items)}|c" in lines
    assert f"airflow.vtex.feed.items_committed:{len(items)}|c" in lines
    assert any(line.startswith("airflow.vtex.feed.lag:") and line.endswith("|g") for line in lines)
    # Fixed words only: no credential, account, order id or invoice number reaches the metrics.
    sent = "\n".join(line for line in lines if ".vtex." in line)
    for private in (sandbox.app_key, sandbox.app_token, "70caf3941s6df1", "NF-ASSET-1", "METRICS-01"):
        assert private not in sent


def test_a_lost_invoice_answer_reports_its_read_back_waits_and_outcome(
    statsd_listener: socket.socket, vtex_connection: Callable[..., str]
) -> None:
    import requests
    import requests_mock as rm

    from airflow_provider_vtex.hooks.vtex import VtexHook

    vtex_connection()
    hook = VtexHook(readback_timeout=0.3, readback_interval=0.1, backoff_initial=0.01)
    order_url = "https://mystore.vtexcommercestable.com.br/api/oms/pvt/orders/1172452900788-01"
    held = {"orderId": "1172452900788-01", "packageAttachment": {"packages": [{"invoiceNumber": "NF-1"}]}}
    invoice = {
        "type": "Output",
        "invoiceNumber": "NF-1",
        "invoiceValue": "990",
        "issuanceDate": "2024-01-31T18:25:43-03:00",
        "items": [{"id": "18", "price": 990, "quantity": 1}],
    }
    with rm.Mocker() as mocker:
        mocker.post(order_url + "/invoice", exc=requests.exceptions.ReadTimeout("read timed out"))
        mocker.get(order_url, [{"json": {"orderId": "1172452900788-01"}}, {"json": held}])
        hook.send_invoice("1172452900788-01", invoice)

    lines = received(statsd_listener)
    assert "airflow.vtex.invoices,outcome=confirmed_by_read_back:1|c" in lines
    assert "airflow.vtex.requests,route=invoice,status_class=transport:1|c" in lines
    assert any(line.startswith("airflow.vtex.read_back_wait:") and line.endswith("|ms") for line in lines)


def test_an_event_handed_out_twice_within_one_read_counts_as_redelivered(
    statsd_listener: socket.socket, vtex_connection: Callable[..., str]
) -> None:
    import requests_mock as rm

    from airflow_provider_vtex.operators.feed import VtexReadOrderFeedOperator

    vtex_connection()
    item = {
        "eventId": "E1",
        "orderId": "1172452900788-01",
        "state": "ready-for-handling",
        "lastState": "payment-approved",
        "lastChange": "2026-11-05T10:00:00.0000000+00:00",
        "currentChange": "2026-11-05T10:00:01.0000000+00:00",
        "domain": "Fulfillment",
    }
    lot = [{**item, "handle": f"H{n}"} for n in range(10)]  # the same event, a new handle each time
    with rm.Mocker() as mocker:
        mocker.get("https://mystore.vtexcommercestable.com.br/api/orders/feed", json=lot)
        events = VtexReadOrderFeedOperator(task_id="read", max_items=10).execute({})  # type: ignore[arg-type]

    assert len(events) == 1
    lines = received(statsd_listener)
    assert "airflow.vtex.feed.items_read:10|c" in lines
    assert "airflow.vtex.feed.items_redelivered:9|c" in lines


def test_a_triggers_calls_keep_the_cap_and_report_each_request(
    statsd_listener: socket.socket, vtex_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The async face (the triggers') goes through the hook's cap and metrics, as the sync face does."""
    import asyncio
    import itertools
    import time

    import httpx

    from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

    vtex_connection()
    statuses = iter(["handling", "handling", "invoiced"])
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        return httpx.Response(200, json={"orderId": "1172452900788-01", "status": next(statuses)})

    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(handler),
    )

    async def fire() -> Any:
        trigger = VtexOrderStatusTrigger(
            order_id="1172452900788-01",
            statuses=["invoiced"],
            poll_interval=0,
            hook_params={"max_requests_per_second": 4},
        )
        async for event in trigger.run():
            return event.payload
        return None

    assert asyncio.run(fire())["status"] == "success"
    assert len(sent) == 3
    assert all(later - earlier >= 0.2 for earlier, later in itertools.pairwise(sent)), "starts were not paced"
    lines = received(statsd_listener)
    assert lines.count("airflow.vtex.requests,route=get_order,status_class=2xx:1|c") == 3
    assert sum(line.startswith("airflow.vtex.request_duration,route=get_order:") for line in lines) == 3
    assert any(line.startswith("airflow.vtex.rate_limit_wait:") for line in lines)
