"""What the provider reports through Airflow's metrics (StatsD, OpenTelemetry or none, as the deployment
configured ``[metrics]``), so an ops team sees throttling, outcomes and feed health without reading logs.

Names (Airflow adds its ``statsd_prefix``, ``airflow.`` by default) and tags:

=============================  =========  ==================================================================
name                           type       tags
=============================  =========  ==================================================================
``vtex.requests``              counter    ``route`` (the operation: ``invoice``, ``get_order``...),
                                          ``status_class`` (``2xx``, ``3xx``, ``4xx``, ``5xx``, ``transport``)
``vtex.request_duration``      timer      ``route``
``vtex.rate_limited``          counter    ``route``: one per 429 VTEX answered
``vtex.rate_limit_wait``       timer      the seconds a request waited for the hook's own request-rate cap
``vtex.budget_wait``           timer      ``kind`` (``intake``, ``writes``, ``events``): the seconds a request
                                          waited for the account's request budget (a 429 pause included)
``vtex.budget_paused``         counter    (none): one per 429 that paused every process of the account
``vtex.read_back_wait``        timer      (none): each wait before reading an order back to learn whether a
                                          write whose answer was lost (or an earlier attempt's) was applied
``vtex.invoices``              counter    ``outcome``: ``sent``, ``already_invoiced``,
                                          ``confirmed_by_read_back``, ``failed``
``vtex.feed.items_read``       counter    (none): feed items handed out by VTEX
``vtex.feed.items_committed``  counter    (none): handles committed
``vtex.feed.items_redelivered``  counter  (none): events VTEX handed out again within one read of
                                          VtexReadOrderFeedOperator (a new handle for the same event)
``vtex.feed.lag``              gauge      (none): seconds since the oldest item of a read changed
``vtex.feed.items_unreadable``  counter   ``action``: feed items set aside because the provider could
                                          not read them: ``committed``, ``kept`` (``keep_unreadable``) or
                                          ``uncommittable`` (no handle that can be committed)
``vtex.order_list.items_unreadable``  counter  (none): entries of an order list set aside (no usable
                                          ``orderId``)
=============================  =========  ==================================================================

Never a credential, an account, an order id or an invoice number in a name or a tag: names and tags are
fixed words, so the series stay few and nothing secret or personal leaves the worker. With metrics off
(neither ``statsd_on``, ``otel_on`` nor ``statsd_datadog_enabled``) every function returns after one
cached flag test. Nothing here runs at DAG parse time.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

#: Every metric name this module emits (tests and docs read it).
NAMES = (
    "vtex.requests",
    "vtex.request_duration",
    "vtex.rate_limited",
    "vtex.rate_limit_wait",
    "vtex.budget_wait",
    "vtex.budget_paused",
    "vtex.read_back_wait",
    "vtex.invoices",
    "vtex.feed.items_read",
    "vtex.feed.items_committed",
    "vtex.feed.items_redelivered",
    "vtex.feed.lag",
    "vtex.feed.items_unreadable",
    "vtex.order_list.items_unreadable",
)


@functools.cache
def enabled() -> bool:
    """Whether the deployment configured a metrics backend (read once per process)."""
    from airflow_provider_vtex.compat import conf

    return any(
        conf.getboolean("metrics", key, fallback=False)
        for key in ("statsd_on", "otel_on", "statsd_datadog_enabled")
    )


@functools.cache
def _stats() -> Any:
    """Airflow's metrics API: the task SDK's on Airflow 3.2+, ``airflow.stats.Stats`` before."""
    try:
        from airflow.sdk.observability import stats

        return stats
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.stats import Stats

        return Stats


def reset() -> None:
    """Forget the cached configuration (tests that switch metrics on)."""
    enabled.cache_clear()
    _stats.cache_clear()


def incr(name: str, count: int = 1, **tags: str) -> None:
    if enabled():
        _stats().incr(name, count, tags=tags or None)


def timing(name: str, seconds: float, **tags: str) -> None:
    if enabled():
        _stats().timing(name, dt.timedelta(seconds=seconds), tags=tags or None)


def gauge(name: str, value: float, **tags: str) -> None:
    if enabled():
        _stats().gauge(name, value, tags=tags or None)


def status_class(status: int | None) -> str:
    """``2xx``...``5xx`` for an HTTP status; ``transport`` when no answer came."""
    return f"{status // 100}xx" if status else "transport"


def feed_lag(last_changes: list[str | None]) -> float | None:
    """Seconds since the oldest ``lastChange`` among feed items (VTEX time stamps), or None."""
    oldest: dt.datetime | None = None
    for text in last_changes:
        if not text:
            continue
        try:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        oldest = stamp if oldest is None or stamp < oldest else oldest
    if oldest is None:
        return None
    return max((dt.datetime.now(dt.timezone.utc) - oldest).total_seconds(), 0.0)
