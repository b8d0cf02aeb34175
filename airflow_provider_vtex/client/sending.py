"""What every request attempt goes through, whichever face of the client sends it.

The hook's calls go out over ``requests`` (:mod:`~airflow_provider_vtex.client.transport`), the
triggers' over ``httpx`` (:mod:`~airflow_provider_vtex.client.async_transport`). Both send each attempt
through one :class:`SendingPolicy`, so the two faces cannot drift apart:

- the account's request budget, shared by every process using the account, with its shares and its
  pauses after a 429 (:class:`~airflow_provider_vtex.client.budget.AccountBudget`: sync requests draw on
  the ``intake`` or ``writes`` share by route, the async face, the triggerer's, on ``events``);
- a further request-rate cap of one hook, shared by its threads and its coroutines, and its pauses after
  a 429 (:class:`~airflow_provider_vtex.client.rate_limit.RequestRateLimiter`);
- what is retried and how long to wait (:class:`~airflow_provider_vtex.client.rules.RetryRules`), the 429's
  wait pausing every other caller too;
- what each answer means, with the AppKey and AppToken scrubbed from it, errors and successes alike
  (:class:`~airflow_provider_vtex.client.rules.AnswerRules`, :class:`~airflow_provider_vtex.client.scrub.Scrubber`),
  and the error of a request that got no answer (:class:`~airflow_provider_vtex.client.rules.TransportErrors`);
- what is reported of each attempt: an :class:`AttemptObserver` (the hook's reports to Airflow's metrics,
  :mod:`airflow_provider_vtex.hooks.metered`; nothing here imports Airflow).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_vtex.client.budget import route_kind, throttle_pause
from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
from airflow_provider_vtex.client.rules import AnswerRules, RetryRules, TransportErrors
from airflow_provider_vtex.client.scrub import Scrubber
from airflow_provider_vtex.exceptions import VtexApiError, VtexError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from airflow_provider_vtex.client.budget import AccountBudget, Kind
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
        """An attempt waited this long for the hook's request-rate cap (or a pause another caller's 429 set)."""

    def waited_for_budget(self, kind: str, seconds: float) -> None:
        """An attempt waited this long for a unit of the account's budget (its ``kind`` share), or for a
        pause a 429 set in any process of the account."""

    def paused(self, seconds: float, account_pause: float | None) -> None:
        """After a 429: the throttled caller itself sleeps ``seconds``; ``account_pause`` is how long every
        process of the account now pauses (``None`` without an account budget)."""


class _Unobserved:
    def attempted(
        self, route: Route, status: int | None, seconds: float, error_code: str | None = None
    ) -> None:
        return None

    def waited_for_cap(self, seconds: float) -> None:
        return None

    def waited_for_budget(self, kind: str, seconds: float) -> None:
        return None

    def paused(self, seconds: float, account_pause: float | None) -> None:
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
    :param rate_limiter: a further request-rate cap shared by every caller of this policy (``None``: no
        cap, but a 429 still pauses every caller of this policy).
    :param budget: the account's request budget, shared by every process using the account (``None``:
        none, as in clients built by hand and the client's own tests).
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
        budget: AccountBudget | None = None,
        observer: AttemptObserver | None = None,
        logger: Any = None,
    ) -> None:
        self.config = config
        self.retry = retry
        self.timeout = timeout if timeout is not None else config.timeout
        self.rate_limiter = rate_limiter or RequestRateLimiter(None)
        self.budget = budget
        #: Pauses being recorded in the budget's store by the event loop (the loop never waits on the store).
        self._pauses: set[asyncio.Task[None]] = set()
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

    def _throttled(self, wait: float, retry_after: float | None) -> None:
        """After a 429: this policy's other callers pause as long as the throttled one sleeps, and every
        process of the account for VTEX's advised time (``Retry-After``, else its one-minute back-off).
        On the async face the account's pause is recorded by a task of the running loop, since the store's
        call goes through a thread."""
        self.rate_limiter.hold(wait)
        if self.budget is None:
            self.observer.paused(wait, None)
            return
        account_pause = throttle_pause(retry_after, self.retry.backoff_max)
        self.observer.paused(wait, account_pause)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the sync face: this thread may wait on the store
            self.budget.pause(account_pause)
            return
        task = loop.create_task(self.budget.apause(account_pause))
        self._pauses.add(task)
        task.add_done_callback(self._pauses.discard)

    @contextmanager
    def attempt(self, route: Route) -> Iterator[Attempt]:
        """Around one attempt of the sync face: wait for the hook's cap, then for a unit of the account's
        budget (blocking), then report the outcome."""
        waited = self.rate_limiter.acquire()
        try:
            with self._account_unit(route_kind(route)), self._reported(route, waited) as attempt:
                yield attempt
        finally:
            self.rate_limiter.release()

    @asynccontextmanager
    async def attempt_async(self, route: Route) -> AsyncIterator[Attempt]:
        """Around one attempt of the async face (the triggerer's ``events`` share): the same waits without
        blocking the event loop."""
        waited = await self.rate_limiter.acquire_async()
        try:
            async with self._account_unit_async("events"):
                with self._reported(route, waited) as attempt:
                    yield attempt
        finally:
            self.rate_limiter.release()

    @contextmanager
    def _account_unit(self, kind: Kind) -> Iterator[None]:
        if self.budget is None:
            yield
            return
        with self.budget.slot(kind) as waited:
            if waited > 0:
                self.observer.waited_for_budget(kind, waited)
            yield

    @asynccontextmanager
    async def _account_unit_async(self, kind: Kind) -> AsyncIterator[None]:
        if self.budget is None:
            yield
            return
        async with self.budget.aslot(kind) as waited:
            if waited > 0:
                self.observer.waited_for_budget(kind, waited)
            yield

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
