"""What the VTEX page computes: stuck orders, refusals and throttling per DAG, the chart's minutes (pure
arithmetic over task records), and VTEX's figures read through the hook against the sandbox, cached."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_vtex.models.report import TaskReport
from airflow_provider_vtex.plugins.vtex_page_data import (
    TaskRecord,
    VtexFigures,
    VtexFiguresCache,
    dag_activity,
    per_minute,
    read_vtex,
    stuck_orders,
)

NOW = dt.datetime(2026, 12, 8, 12, 0, 30, tzinfo=dt.timezone.utc)


def record(minutes_ago: float, dag_id: str = "dag", task_id: str = "t", **report: Any) -> TaskRecord:
    report.setdefault("conn_id", "vtex_default")
    report.setdefault("outcome", "success")
    return TaskRecord(
        dag_id, f"run-{task_id}", task_id, -1, NOW - dt.timedelta(minutes=minutes_ago), TaskReport(**report)
    )


def test_refusals_429s_and_waits_are_summed_per_dag_within_the_window_and_connection() -> None:
    records = [
        record(
            10, "intake", rate_limited=2, waited_seconds=3.5, requests=10, operations={"start_handling": 5}
        ),
        record(5, "intake", outcome="refused", refusals={"OMS003": 1}, requests=1, error_code="OMS003"),
        record(5, "erp", refusals={"OMS001": 2}, requests=4),
        record(400, "intake", rate_limited=9),  # before the window
        record(5, "other", conn_id="vtex_other", rate_limited=7),  # another connection
    ]
    activity = {a.dag_id: a for a in dag_activity(records, "vtex_default", NOW - dt.timedelta(hours=6))}
    assert set(activity) == {"intake", "erp"}
    intake = activity["intake"]
    assert (intake.tasks, intake.requests, intake.rate_limited, intake.waited_seconds) == (2, 11, 2, 3.5)
    assert intake.refusals == {"OMS003": 1}
    assert intake.outcomes == {"success": 1, "refused": 1}
    assert activity["erp"].refusals == {"OMS001": 2}


def test_stuck_orders_ready_too_long_unknown_outcomes_and_missing_tracking() -> None:
    vtex = VtexFigures(
        "vtex_default",
        NOW,
        ready_count=2,
        ready_orders=[("OLD-01", NOW - dt.timedelta(hours=2)), ("NEW-01", NOW - dt.timedelta(minutes=5))],
    )
    touched_old = record(90, "intake", "read", order_ids=["OLD-01"])
    records = [
        touched_old,
        # An invoice whose outcome stayed unknown, and one a later task confirmed.
        record(60, "erp", "inv-a", outcome="outcome_unknown", unknown_order_id="U-01", order_ids=["U-01"]),
        record(50, "erp", "inv-b", outcome="outcome_unknown", unknown_order_id="U-02", order_ids=["U-02"]),
        record(40, "erp", "inv-b2", order_ids=["U-02"], operations={"get_order": 1}),
        # Invoiced 30 hours ago without tracking; invoiced and tracked; invoiced an hour ago.
        record(30 * 60, "erp", "inv-c", order_ids=["T-01"], accepted={"invoice": 1}),
        record(30 * 60, "erp", "inv-d", order_ids=["T-02"], accepted={"invoice": 1}),
        record(29 * 60, "track", "trk", order_ids=["T-02"], accepted={"tracking_number": 1}),
        record(60, "erp", "inv-e", order_ids=["T-03"], accepted={"invoice": 1}),
    ]
    stuck = stuck_orders(records, "vtex_default", vtex, NOW, stuck_minutes=30, tracking_hours=24)
    by_order = {s.order_id: s for s in stuck}
    assert set(by_order) == {"OLD-01", "U-01", "T-01"}
    assert by_order["OLD-01"].why == "ready for handling over 30 min"
    assert by_order["OLD-01"].last_task == touched_old
    assert by_order["U-01"].why.startswith("write outcome unknown")
    assert by_order["U-01"].last_task is not None
    assert by_order["U-01"].last_task.task_id == "inv-a"
    assert by_order["T-01"].why == "no tracking 24 h after the invoice"
    assert by_order["T-01"].since == NOW - dt.timedelta(hours=30)


def test_the_chart_counts_orders_in_and_out_and_requests_per_minute_of_the_last_hour() -> None:
    records = [
        record(
            0.2,
            operations={"start_handling": 5, "invoice": 1},
            accepted={"start_handling": 3, "invoice": 1},
            requests=6,
            rate_limited=2,
        ),
        record(0.1, accepted={"invoice": 2}, requests=2),
        record(3, accepted={"start_handling": 1}, requests=1),
        record(61, accepted={"start_handling": 100}, requests=100),  # older than the chart
    ]
    minutes = per_minute(records, "vtex_default", NOW)
    assert len(minutes) == 60
    assert minutes[-1].start == dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.timezone.utc)
    last = minutes[-1]
    assert (last.orders_in, last.orders_out, last.requests, last.rate_limited) == (3, 3, 8, 2)
    assert minutes[-4].orders_in == 1
    assert sum(m.requests for m in minutes) == 9


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_cache_reads_vtex_once_per_refresh_period() -> None:
    clock = Clock()
    reads: list[str] = []

    def read(conn_id: str) -> VtexFigures:
        reads.append(conn_id)
        return VtexFigures(conn_id, clock())

    cache = VtexFiguresCache(read, refresh_seconds=60, clock=clock)
    first = cache.get("a")
    clock.now += dt.timedelta(seconds=59)
    assert cache.get("a") is first
    clock.now += dt.timedelta(seconds=2)
    assert cache.get("a") is not first
    assert reads == ["a", "a"]


def test_one_refresh_at_a_time_others_get_the_figures_held() -> None:
    clock = Clock()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def read(conn_id: str) -> VtexFigures:
        calls.append(1)
        if len(calls) == 2:  # the refresh: hold it until the other request has been answered
            started.set()
            assert release.wait(10)
        return VtexFigures(conn_id, clock())

    cache = VtexFiguresCache(read, refresh_seconds=60, clock=clock)
    stale = cache.get("a")
    clock.now += dt.timedelta(seconds=120)
    refreshed: list[VtexFigures] = []
    refresher = threading.Thread(target=lambda: refreshed.append(cache.get("a")))
    refresher.start()
    assert started.wait(10)
    assert cache.get("a") is stale  # a refresh is running: no second read, the held figures
    release.set()
    refresher.join(10)
    assert len(calls) == 2
    assert refreshed[0].read_at == clock.now


PAGE_KEY = "vtexappkey-sandbox-PAGETEST"
PAGE_TOKEN = "PAGETESTTOKENQWERTYUIOPASDFGHJKLZXCVBNM"


@pytest.fixture
def sandbox_hook(vtex_connection: Callable[..., str]) -> Any:
    from vtex_sandbox import VtexSandbox

    # Credentials of VTEX's shape: the scrubber masks every form of them in VTEX's answers, so a one-letter
    # token would mask that letter in every key of the feed's answer.
    with VtexSandbox(app_key=PAGE_KEY, app_token=PAGE_TOKEN) as sandbox:
        vtex_connection(
            login=PAGE_KEY, password=PAGE_TOKEN, host="sandbox", base_url=sandbox.url, max_retries=0
        )
        yield sandbox


def test_read_vtex_reads_the_feed_queue_and_the_orders_ready_for_handling(sandbox_hook: Any) -> None:
    sandbox = sandbox_hook
    sandbox.configure_feed(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "queue": {"visibilityTimeoutInSeconds": 300, "MessageRetentionPeriodInSeconds": 345600},
        },
        app_key=PAGE_KEY,
    )
    placed = "2026-01-01T10:00:00Z"
    sandbox.place_order("WAIT-01", status="ready-for-handling", creationDate=placed)
    figures = read_vtex("vtex_default")
    assert figures.error is None, figures.error
    assert figures.feed_queue == 1
    assert figures.feed_note is None
    assert figures.hook == "not registered"
    assert figures.budget_per_minute is None  # the connection sets no budget
    ready = dict(figures.ready_orders)
    assert ready["WAIT-01"] == dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone.utc)
    assert figures.ready_count == len(figures.ready_orders)
    assert figures.ready_oldest is not None
    assert figures.ready_oldest <= ready["WAIT-01"]


def test_read_vtex_says_what_failed_without_raising(
    sandbox_hook: Any, vtex_connection: Callable[..., str]
) -> None:
    figures = read_vtex("vtex_default")
    assert figures.feed_note == "no feed configured for this AppKey"
    vtex_connection(
        login=PAGE_KEY,
        password="WRONG-TOKEN-OF-THE-PAGE-TEST",
        host="sandbox",
        base_url=sandbox_hook.url,
        max_retries=0,
    )
    refused = read_vtex("vtex_default")
    assert refused.feed_queue is None
    assert refused.ready_count is None
    assert refused.error is not None
    assert "401" in refused.error
    assert "WRONG" not in refused.error


class _HookWith:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def get_hook_config(self) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_order_hook_status_reads_the_hook_configuration_when_the_hook_can() -> None:
    from airflow_provider_vtex.exceptions import VtexServerError
    from airflow_provider_vtex.plugins.vtex_page_data import hook_status

    assert hook_status(_HookWith(None)) == "not registered"  # type: ignore[arg-type]
    assert hook_status(_HookWith({"hook": {"url": "https://x"}})) == "registered"  # type: ignore[arg-type]
    outage = VtexServerError(
        "VTEX answered 503", http_status=503, method="GET", path="/api/orders/hook/config"
    )
    assert hook_status(_HookWith(outage)) == "unknown (VTEX answered 503)"  # type: ignore[arg-type]
