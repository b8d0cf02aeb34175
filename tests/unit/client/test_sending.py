"""One client, two faces: the triggers' async calls go through the same request-rate cap, 429 pauses,
metrics and scrubbing as the hook's sync calls, from the one :class:`SendingPolicy` the hook gives both.

Fake clock (``clock``): the cap's waits take no real time, and the request times are exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests_mock as rm

from airflow_provider_vtex import metrics
from airflow_provider_vtex.hooks.vtex import VtexHook
from tests.unit.fake_clock import FakeClock

ORDER = "1172452900788-01"
ORDER_URL = f"https://mystore.vtexcommercestable.com.br/api/oms/pvt/orders/{ORDER}"


class Recorded:
    """Airflow's metrics API, recording what the provider reports."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, Any, dict[str, str] | None]] = []

    def incr(self, name: str, count: int = 1, tags: dict[str, str] | None = None) -> None:
        self.lines.append(("incr", name, count, tags))

    def timing(self, name: str, value: Any, tags: dict[str, str] | None = None) -> None:
        self.lines.append(("timing", name, value, tags))

    def gauge(self, name: str, value: Any, tags: dict[str, str] | None = None) -> None:
        self.lines.append(("gauge", name, value, tags))

    def named(self, name: str) -> list[tuple[str, str, Any, dict[str, str] | None]]:
        return [line for line in self.lines if line[1] == name]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    stats = Recorded()
    monkeypatch.setattr(metrics, "enabled", lambda: True)
    monkeypatch.setattr(metrics, "_stats", lambda: stats)
    return stats


def answered_at(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, answers: list[httpx.Response]
) -> list[float]:
    """The triggers' transport answers ``answers`` in turn (then 200s), noting the (fake) time of each request."""
    times: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock.now)
        return queue.pop(0) if queue else httpx.Response(200, json={"orderId": ORDER, "status": "handling"})

    monkeypatch.setattr(
        "airflow_provider_vtex.client.async_transport.httpx.AsyncHTTPTransport",
        lambda **_: httpx.MockTransport(handler),
    )
    return times


def run_async_reads(hook: VtexHook, count: int) -> list[Any]:
    async def run() -> list[Any]:
        try:
            return list(await asyncio.gather(*(hook.aget_order(ORDER) for _ in range(count))))
        finally:
            await hook.aclose()

    return asyncio.run(run())


def test_the_async_face_keeps_the_request_rate_cap_and_reports_each_request(
    vtex_connection: Callable[..., str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch, recorded: Recorded
) -> None:
    vtex_connection()
    times = answered_at(clock, monkeypatch, [])
    orders = run_async_reads(VtexHook(max_requests_per_second=2), 6)

    assert [order["status"] for order in orders] == ["handling"] * 6
    assert len(times) == 6
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 2
    assert times[-1] - times[0] >= 2.0  # six requests at two per second: the cap made them wait
    requests = recorded.named("vtex.requests")
    assert [line[3] for line in requests] == [{"route": "get_order", "status_class": "2xx"}] * 6
    assert len(recorded.named("vtex.request_duration")) == 6
    assert recorded.named("vtex.rate_limit_wait"), "the waits for the cap were not reported"


def test_a_429_on_the_async_face_pauses_its_other_calls_and_is_reported(
    vtex_connection: Callable[..., str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch, recorded: Recorded
) -> None:
    """The hook's 429 rule: every caller of the hook waits VTEX's Retry-After, not only the one told."""
    vtex_connection()
    times = answered_at(clock, monkeypatch, [httpx.Response(429, headers={"Retry-After": "5"})])
    started = clock.now
    run_async_reads(VtexHook(max_requests_per_second=100, backoff_max=10), 3)

    assert len(times) == 4
    assert times[0] == started
    assert all(t >= started + 5.0 for t in times[2:]), f"a call went out during the pause: {times}"
    assert [line[3] for line in recorded.named("vtex.rate_limited")] == [{"route": "get_order"}]
    classes = sorted(line[3]["status_class"] for line in recorded.named("vtex.requests") if line[3])
    assert classes == ["2xx", "2xx", "2xx", "4xx"]


def test_both_faces_of_one_hook_share_one_cap_and_one_policy(
    vtex_connection: Callable[..., str],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    requests_mock: rm.Mocker,
) -> None:
    vtex_connection()
    times = answered_at(clock, monkeypatch, [])
    requests_mock.get(ORDER_URL, json={"orderId": ORDER, "status": "handling"})
    hook = VtexHook(max_requests_per_second=1)
    hook.get_order(ORDER)  # the sync face takes the cap's one unit for a second
    run_async_reads(hook, 1)

    assert times[0] >= 1_001.0, "the async call did not wait for the unit the sync call held"
    assert hook._async_client is None or hook._async_client.sending is hook.client.sending
