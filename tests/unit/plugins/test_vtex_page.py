"""The VTEX page's plugin: declared harmlessly on every Airflow, its app refusing anyone not signed in, its
HTML escaping what it shows. (The page in a browser, signed in, against a real API server:
tests/ui/test_vtex_page.py.)"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from airflow_provider_vtex.models.report import TaskReport
from airflow_provider_vtex.plugins import vtex_page
from airflow_provider_vtex.plugins.plugin import VtexPlugin
from airflow_provider_vtex.plugins.vtex_page_data import (
    AccountView,
    StuckOrder,
    TaskRecord,
    VtexFigures,
    per_minute,
)

NOW = dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.timezone.utc)


HAS_UI_PLUGINS = vtex_page.supported()


def _page_apps() -> list[dict[str, object]]:
    return [
        app for app in getattr(VtexPlugin, "fastapi_apps", []) if app["url_prefix"] == vtex_page.URL_PREFIX
    ]


def test_the_plugin_declares_the_page_on_airflow_3_1_and_nothing_before() -> None:
    if not HAS_UI_PLUGINS:  # Airflow 2.11 to 3.0: importing the plugin is harmless, and it adds no page
        assert getattr(VtexPlugin, "external_views", []) == []
        assert _page_apps() == []
        return
    [view] = VtexPlugin.external_views
    assert (view["name"], view["destination"], view["url_route"]) == ("VTEX", "nav", "vtex")
    assert view["href"].endswith("/vtex/page/")
    [app] = _page_apps()
    assert isinstance(app["app"], vtex_page.PageApp)  # the FastAPI app is built on the first request


@pytest.mark.skipif(not HAS_UI_PLUGINS, reason="the page needs Airflow 3.1+")
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-jwt"}], ids=["none", "forged"])
def test_the_page_refuses_a_request_without_valid_credentials(headers: dict[str, str]) -> None:
    from airflow.api_fastapi import app as api_app
    from fastapi.testclient import TestClient

    from airflow_provider_vtex.plugins.vtex_page_app import create_app

    api_app.init_auth_manager()  # as the API server does at start (the simple auth manager by default)
    try:
        answer = TestClient(create_app()).get("/", headers=headers)
    finally:
        api_app._AuthManagerState.instance = None
    assert answer.status_code in (401, 403), answer.text
    assert "VTEX" not in answer.text


def test_the_chart_draws_the_requests_against_the_accounts_budget() -> None:
    from airflow_provider_vtex.plugins.vtex_page_html import chart

    minutes = per_minute([], "vtex_default", NOW)
    assert 'class="budget"' not in chart(minutes)  # no budget on the connection: no line
    drawn = chart(minutes, budget_per_minute=600.0)
    assert 'class="budget"' in drawn
    assert "600 requests a minute" in drawn
    assert ">600</text>" in drawn  # the scale reaches the budget even on a quiet hour


def test_the_intake_says_when_the_order_hook_last_pushed_a_change() -> None:
    from airflow_provider_vtex.plugins.vtex_page_html import intake

    vtex = VtexFigures(conn_id="vtex_default", read_at=NOW, hook="registered")
    quiet = intake(vtex, NOW)
    assert "registered" in quiet
    assert "no change pushed lately" in quiet
    pushed = intake(vtex, NOW, NOW - dt.timedelta(minutes=3))
    assert "last change pushed 3 min ago" in pushed, pushed


@pytest.mark.skipif(importlib.util.find_spec("airflow.api_fastapi") is None, reason="Airflow 3's API only")
def test_the_page_escapes_what_it_shows_and_links_the_task_in_airflows_window() -> None:
    from airflow_provider_vtex.plugins.vtex_page_html import render_page

    hostile = '<script>alert("x")</script>'
    task = TaskRecord(
        "dag<b>",
        "manual__2026-12-08T11:00:00+00:00",
        "invoice",
        2,
        NOW,
        TaskReport("vtex_default", "outcome_unknown"),
    )
    account = AccountView(
        conn_id="vtex_default",
        vtex=None,
        dags=[],
        stuck=[StuckOrder(hostile, "write outcome unknown", NOW - dt.timedelta(hours=1), task)],
        minutes=per_minute([], "vtex_default", NOW),
    )
    page = render_page([account], NOW, hours=6, stuck_minutes=30, tracking_hours=24, base_path="/airflow")
    assert hostile not in page
    assert "&lt;script&gt;" in page
    assert "dag<b>" not in page
    assert (
        'target="_top" href="/airflow/dags/dag%3Cb%3E/runs/manual__2026-12-08T11%3A00%3A00%2B00%3A00/tasks/invoice/mapped/2"'
        in page
    )
    assert "<svg" in page
    assert "<script" not in page  # no script at all: nothing to fetch, nothing to run
