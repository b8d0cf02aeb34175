"""What every request attempt goes through, whichever face of the client sends it.

The hook's calls go out over ``requests`` (:mod:`~airflow_provider_vtex.client.transport`), the
triggers' over ``httpx`` (:mod:`~airflow_provider_vtex.client.async_transport`). Both send each attempt
through one :class:`SendingPolicy`, so the two faces cannot drift apart:

- the request-rate cap and the pauses after a 429 (:class:`~airflow_provider_vtex.client.rate_limit.RequestRateLimiter`:
  one per hook, shared by its threads and its coroutines);
- what is retried and how long to wait (:class:`~airflow_provider_vtex.client.rules.RetryRules`), the 429's
  wait pausing every other caller too;
- what each answer means, with the AppKey and AppToken scrubbed from it, errors and successes alike
  (:class:`~airflow_provider_vtex.client.rules.AnswerRules`, :class:`~airflow_provider_vtex.client.scrub.Scrubber`),
  and the error of a request that got no answer (:class:`~airflow_provider_vtex.client.rules.TransportErrors`);
- what is reported of each attempt: an :class:`AttemptObserver` (the hook's reports to Airflow's metrics,
  :mod:`airflow_provider_vtex.hooks.metered`; nothing here imports Airflow).

A per-account request budget shared by processes replaces the cap in one place: the ``rate_limiter``
given here.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
from airflow_provider_vtex.client.rules import AnswerRules, RetryRules, TransportErrors
from airflow_provider_vtex.client.scrub import Scrubber
from airflow_provider_vtex.exceptions import VtexApiError, VtexError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from airflow_provider_vtex.client.config import VtexConnectionConfig
    from airflow_provider_vtex.client.routes import Route
    from airflow_provider_vtex.client.rules import Answer, RetryPolicy


class AttemptObserver(Protocol):
    """Told about every attempt, whichever face sent it."""

    def attempted(
        self, route: Route, status: int | None, seconds: float, error_code: str | None = None
    ) -> None:
        """One attempt ended: VTEX's HTTP status, or ``None`` when no answer came; its duration; VTEX's
        error code when it refused."""

    def waited_for_cap(self, seconds: float) -> None:
        """An attempt waited this long for the request-rate cap (or a pause another caller's 429 set)."""

    def paused(self, seconds: float) -> None:
        """The throttled caller itself sleeps this long after a 429, as VTEX asked."""


class _Unobserved:
    def attempted(
        self, route: Route, status: int | None, seconds: float, error_code: str | None = None
    ) -> None:
        return None

    def waited_for_cap(self, seconds: float) -> None:
        return None

    def paused(self, seconds: float) -> None:
        return None


class Attempt:
    """One attempt under way: records the status of VTEX's answer for the observer."""

    __slots__ = ("status",)

    def __init__(self) -> None:
        self.status: int | None = None


class SendingPolicy:
    """The rules, cap, pauses, scrubbing and reports every attempt of one connection goes through.

    :param config: the checked connection.
    :param retry: retries and waits.
    :param timeout: seconds per request (overrides the connection's).
    :param rate_limiter: the request-rate cap shared by every caller (``None``: no cap, but a 429 still
        pauses every caller of this policy).
    :param observer: told about every attempt (the hook reports to Airflow's metrics).
    :param logger: where waits and retries are reported (the hook passes its Airflow task logger).
    """

    def __init__(
        self,
        config: VtexConnectionConfig,
        retry: RetryPolicy,
        *,
        timeout: float | None = None,
        rate_limiter: RequestRateLimiter | None = None,
        observer: AttemptObserver | None = None,
        logger: Any = None,
    ) -> None:
        self.config = config
        self.retry = retry
        self.timeout = timeout if timeout is not None else config.timeout
        self.rate_limiter = rate_limiter or RequestRateLimiter(None)
        self.observer: AttemptObserver = observer or _Unobserved()
        self.log = logger or logging.getLogger(__name__)
        self.scrub = Scrubber(config.secrets)
        self.rules = AnswerRules(config.conn_id, self.scrub)
        self.transport_errors = TransportErrors(config, self.timeout, self.scrub)
        self.retry_rules = RetryRules(retry, self.log, on_throttle=self._throttled)

    def interpret(self, answer: Answer, method: str, path: str, route: Route, attempt: Attempt) -> Any:
        """The scrubbed JSON of a success, else the typed error VTEX's answer means."""
        attempt.status = answer.status
        return self.rules.interpret(answer, method, path, route)

    def _throttled(self, seconds: float) -> None:
        """After a 429: every other caller pauses ``seconds``; the throttled one sleeps them itself."""
        self.rate_limiter.hold(seconds)
        self.observer.paused(seconds)

    @contextmanager
    def attempt(self, route: Route) -> Iterator[Attempt]:
        """Around one attempt of the sync face: wait for the cap (blocking), then report the outcome."""
        waited = self.rate_limiter.acquire()
        try:
            with self._reported(route, waited) as attempt:
                yield attempt
        finally:
            self.rate_limiter.release()

    @asynccontextmanager
    async def attempt_async(self, route: Route) -> AsyncIterator[Attempt]:
        """Around one attempt of the async face: wait for the cap without blocking the event loop."""
        waited = await self.rate_limiter.acquire_async()
        try:
            with self._reported(route, waited) as attempt:
                yield attempt
        finally:
            self.rate_limiter.release()

    @contextmanager
    def _reported(self, route: Route, waited: float) -> Iterator[Attempt]:
        if waited > 0:
            self.observer.waited_for_cap(waited)
        attempt = Attempt()
        started = time.monotonic()
        error_code: str | None = None
        try:
            yield attempt
        except VtexError as exc:
            attempt.status = getattr(exc, "http_status", None)
            error_code = exc.error_code if isinstance(exc, VtexApiError) else None
            raise
        finally:
            self.observer.attempted(route, attempt.status, time.monotonic() - started, error_code)
