"""The hook's HTTP client and rate limiter, reporting each request to Airflow's metrics.

Subclasses, so the Airflow-free client modules stay free of Airflow and unchanged: what is measured is
one attempt (a retry is a request of its own), by operation name and status class, plus the waits for
the connection's request-rate cap. With metrics off they add one cached flag test per request.
See :mod:`airflow_provider_vtex.metrics` for the names and tags. Each attempt and wait is also counted
in the hook's :class:`~airflow_provider_vtex.models.report.RequestTally`, the figures of the task's
``vtex_report`` XCom (always on: a few additions per request).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex import metrics
from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
from airflow_provider_vtex.client.routes import ROUTE_SETS
from airflow_provider_vtex.client.transport import VtexClient
from airflow_provider_vtex.exceptions import VtexApiError, VtexError
from airflow_provider_vtex.models.report import RequestTally

if TYPE_CHECKING:
    from airflow_provider_vtex.client.routes import Route


@functools.cache
def _operation_names() -> dict[Route, str]:
    return {route: name for routes in ROUTE_SETS.values() for name, route in routes.items()}


def operation_name(route: Route) -> str:
    """The operation a route serves (``invoice``, ``get_order``...): a tag with few values, unlike a path."""
    return _operation_names().get(route, "other")


class MeteredVtexClient(VtexClient):
    """:class:`VtexClient` counting every attempt: ``vtex.requests``, ``vtex.request_duration`` and
    ``vtex.rate_limited`` (a 429), and tallying it in ``tally``."""

    def __init__(self, *args: Any, tally: RequestTally | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tally = tally if tally is not None else RequestTally()

    def _send_once(self, route: Route, path: str, **kwargs: Any) -> Any:
        name = operation_name(route)
        started = time.monotonic()
        status: int | None = 200
        error_code: str | None = None
        try:
            return super()._send_once(route, path, **kwargs)
        except VtexError as exc:
            status = getattr(exc, "http_status", None)
            error_code = exc.error_code if isinstance(exc, VtexApiError) else None
            if status == 429:
                metrics.incr("vtex.rate_limited", route=name)
            raise
        finally:
            self.tally.answered(name, status, error_code)
            metrics.incr("vtex.requests", route=name, status_class=metrics.status_class(status))
            metrics.timing("vtex.request_duration", time.monotonic() - started, route=name)


class MeteredRateLimiter(RequestRateLimiter):
    """:class:`RequestRateLimiter` reporting each wait for the cap as ``vtex.rate_limit_wait``; it tallies
    those waits and the pauses VTEX asked for after a 429 (which the throttled thread sleeps itself)."""

    def __init__(self, max_per_second: float | None = None, *, tally: RequestTally | None = None) -> None:
        super().__init__(max_per_second)
        self.tally = tally if tally is not None else RequestTally()

    def acquire(self) -> float:
        waited = super().acquire()
        if waited > 0:
            metrics.timing("vtex.rate_limit_wait", waited)
            self.tally.waited(waited)
        return waited

    def hold(self, seconds: float) -> None:
        super().hold(seconds)
        self.tally.waited(seconds)
