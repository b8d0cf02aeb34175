"""The VTEX page's FastAPI app (Airflow 3.1+), built in the API server on the page's first request
(``vtex_page.PageApp``): it imports FastAPI and the API server's security module, seconds of imports that
the other processes loading plugins (scheduler, task processes) never pay.

Plugin FastAPI apps are not behind Airflow's authentication: every route here depends on the API server's
own (``airflow.api_fastapi.core_api.security``): a signed-in user (the UI's JWT cookie, or a bearer token)
allowed to see plugins' views; the Airflow figures are those of the DAGs the user may read. Nothing
secret is shown: counts, VTEX's error codes, order ids, DAG and task ids.

Importing this module needs Airflow 3.1+.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_view
from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse

from airflow_provider_vtex.plugins.vtex_page import base_path
from airflow_provider_vtex.plugins.vtex_page_data import (
    DEFAULT_STUCK_MINUTES,
    DEFAULT_TRACKING_HOURS,
    DEFAULT_WINDOW_HOURS,
    AccountView,
    VtexFiguresCache,
    dag_activity,
    per_minute,
    read_hook_notifications,
    read_task_records,
    stuck_orders,
    vtex_connection_ids,
)
from airflow_provider_vtex.plugins.vtex_page_html import render_page

#: How far back the tasks' records are read for stuck orders (the tracking rule needs a day and more).
LOOKBACK_HOURS = 72

#: One cache per API server process: VTEX is read at most once a minute per connection, whoever asks.
VTEX_FIGURES = VtexFiguresCache()


def _readable_dag_ids(user: Any) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def create_app() -> FastAPI:
    app = FastAPI(title="VTEX page", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(
        "/",
        response_class=HTMLResponse,
        dependencies=[Depends(requires_access_view(AccessView.PLUGINS))],
    )
    def vtex_page(
        user: GetUserDep,
        hours: Annotated[float, Query(gt=0, le=LOOKBACK_HOURS)] = DEFAULT_WINDOW_HOURS,
        stuck_minutes: Annotated[float, Query(gt=0)] = DEFAULT_STUCK_MINUTES,
        tracking_hours: Annotated[float, Query(gt=0, le=LOOKBACK_HOURS)] = DEFAULT_TRACKING_HOURS,
    ) -> HTMLResponse:
        now = dt.datetime.now(dt.timezone.utc)
        records = read_task_records(now - dt.timedelta(hours=LOOKBACK_HOURS), _readable_dag_ids(user))
        conn_ids = sorted({*vtex_connection_ids(), *(r.report.conn_id for r in records)})
        pushed = read_hook_notifications(now - dt.timedelta(hours=LOOKBACK_HOURS))
        accounts = []
        for conn_id in conn_ids:
            vtex = VTEX_FIGURES.get(conn_id)
            accounts.append(
                AccountView(
                    conn_id=conn_id,
                    vtex=vtex,
                    dags=dag_activity(records, conn_id, now - dt.timedelta(hours=hours)),
                    stuck=stuck_orders(
                        records,
                        conn_id,
                        vtex,
                        now,
                        stuck_minutes=stuck_minutes,
                        tracking_hours=tracking_hours,
                    ),
                    minutes=per_minute(records, conn_id, now),
                    last_notification=pushed.get(conn_id),
                )
            )
        page = render_page(
            accounts,
            now,
            hours=hours,
            stuck_minutes=stuck_minutes,
            tracking_hours=tracking_hours,
            base_path=base_path(),
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return app
