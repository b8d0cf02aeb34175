"""What the hook reports to Airflow's metrics of each request attempt, whichever face sent it.

An :class:`~airflow_provider_vtex.client.sending.AttemptObserver` that the hook gives the
:class:`~airflow_provider_vtex.client.sending.SendingPolicy` both of its clients share (the sync one of
its calls, the async one of the triggers), so the Airflow-free client reports without importing Airflow.
What is measured is one attempt (a retry is a request of its own), by operation name and status class,
plus the waits for the hook's request-rate cap and the account's budget. With metrics off each report costs one cached flag
test. See :mod:`airflow_provider_vtex.metrics` for the names and tags. Each attempt, wait and pause is
also counted in the hook's :class:`~airflow_provider_vtex.models.report.RequestTally`, the figures of the
task's ``vtex_report`` XCom.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from airflow_provider_vtex import metrics
from airflow_provider_vtex.client.routes import ROUTE_SETS
from airflow_provider_vtex.models.report import RequestTally

if TYPE_CHECKING:
    from airflow_provider_vtex.client.routes import Route


@functools.cache
def _operation_names() -> dict[Route, str]:
    return {route: name for routes in ROUTE_SETS.values() for name, route in routes.items()}


def operation_name(route: Route) -> str:
    """The operation a route serves (``invoice``, ``get_order``...): a tag with few values, unlike a path."""
    return _operation_names().get(route, "other")


class MetricsObserver:
    """Counts every attempt: ``vtex.requests``, ``vtex.request_duration``, ``vtex.rate_limited`` (a 429),
    ``vtex.rate_limit_wait`` (a wait for the hook's cap), ``vtex.budget_wait`` (a wait for the account's
    budget, tagged with the share) and ``vtex.budget_paused`` (a 429 that paused the account); and tallies each attempt, wait and pause after a
    429 in the hook's :class:`~airflow_provider_vtex.models.report.RequestTally`, the figures of the
    task's ``vtex_report`` XCom (always on: a few additions per attempt)."""

    def __init__(self, tally: RequestTally | None = None) -> None:
        self.tally = tally if tally is not None else RequestTally()

    def attempted(
        self, route: Route, status: int | None, seconds: float, error_code: str | None = None
    ) -> None:
        name = operation_name(route)
        self.tally.answered(name, status, error_code)
        if not metrics.enabled():
            return
        if status == 429:
            metrics.incr("vtex.rate_limited", route=name)
        metrics.incr("vtex.requests", route=name, status_class=metrics.status_class(status))
        metrics.timing("vtex.request_duration", seconds, route=name)

    def waited_for_cap(self, seconds: float) -> None:
        self.tally.waited(seconds)
        metrics.timing("vtex.rate_limit_wait", seconds)

    def waited_for_budget(self, kind: str, seconds: float) -> None:
        self.tally.waited(seconds)
        metrics.timing("vtex.budget_wait", seconds, kind=kind)

    def paused(self, seconds: float, account_pause: float | None) -> None:
        self.tally.waited(seconds)
        if account_pause is not None:
            metrics.incr("vtex.budget_paused")
