"""The hook's HTTP client and rate limiter, reporting each request to Airflow's metrics.

Subclasses, so the Airflow-free client modules stay free of Airflow and unchanged: what is measured is
one attempt (a retry is a request of its own), by operation name and status class, plus the waits for
the connection's request-rate cap. With metrics off they add one cached flag test per request.
See :mod:`airflow_provider_vtex.metrics` for the names and tags.
"""

from __future__ import annotations

import functools
import time
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex import metrics
from airflow_provider_vtex.client.budget import AccountBudget
from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
from airflow_provider_vtex.client.routes import ROUTE_SETS
from airflow_provider_vtex.client.transport import VtexClient
from airflow_provider_vtex.exceptions import VtexError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from airflow_provider_vtex.client.routes import Route


@functools.cache
def _operation_names() -> dict[Route, str]:
    return {route: name for routes in ROUTE_SETS.values() for name, route in routes.items()}


def operation_name(route: Route) -> str:
    """The operation a route serves (``invoice``, ``get_order``...): a tag with few values, unlike a path."""
    return _operation_names().get(route, "other")


class MeteredVtexClient(VtexClient):
    """:class:`VtexClient` counting every attempt: ``vtex.requests``, ``vtex.request_duration`` and
    ``vtex.rate_limited`` (a 429)."""

    def _send_once(self, route: Route, path: str, **kwargs: Any) -> Any:
        if not metrics.enabled():
            return super()._send_once(route, path, **kwargs)
        name = operation_name(route)
        started = time.monotonic()
        status: int | None = 200
        try:
            return super()._send_once(route, path, **kwargs)
        except VtexError as exc:
            status = getattr(exc, "http_status", None)
            if status == 429:
                metrics.incr("vtex.rate_limited", route=name)
            raise
        finally:
            metrics.incr("vtex.requests", route=name, status_class=metrics.status_class(status))
            metrics.timing("vtex.request_duration", time.monotonic() - started, route=name)


class MeteredRateLimiter(RequestRateLimiter):
    """:class:`RequestRateLimiter` reporting each wait for the cap as ``vtex.rate_limit_wait``."""

    def acquire(self) -> float:
        waited = super().acquire()
        if waited > 0:
            metrics.timing("vtex.rate_limit_wait", waited)
        return waited


class MeteredAccountBudget(AccountBudget):
    """:class:`AccountBudget` reporting each wait for the account's budget as ``vtex.budget_wait``
    (tagged with the share waited on) and each 429 pause as ``vtex.budget_paused``."""

    @contextmanager
    def slot(self, kind: str) -> Iterator[float]:
        with super().slot(kind) as waited:
            if waited > 0:
                metrics.timing("vtex.budget_wait", waited, kind=kind)
            yield waited

    @asynccontextmanager
    async def aslot(self, kind: str) -> AsyncIterator[float]:
        async with super().aslot(kind) as waited:
            if waited > 0:
                metrics.timing("vtex.budget_wait", waited, kind=kind)
            yield waited

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        metrics.incr("vtex.budget_paused")
