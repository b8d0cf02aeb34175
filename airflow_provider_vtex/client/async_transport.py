"""The async client of the triggers: the same rules as the hook's client, over ``httpx.AsyncClient``.

Why httpx: Airflow installs it (a core dependency of Airflow 2.10+ and of Airflow 3's task SDK), so the
triggerer needs nothing new, and it is the async client Airflow itself uses. Headers, timeouts, the
environment's proxies and CA bundle (resolved once), 429/503 waits within one budget, error mapping and
token scrubbing all come from :mod:`~airflow_provider_vtex.client.rules`, so a trigger behaves as the hook
does. Redirects are not followed, for the same reason as in the hook.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
import tenacity

from airflow_provider_vtex.client.budget import throttle_pause
from airflow_provider_vtex.client.config import environment_settings
from airflow_provider_vtex.client.rules import (
    USER_AGENT,
    Answer,
    AnswerRules,
    Budget,
    RetryRules,
    TransportErrors,
    TransportFailure,
)
from airflow_provider_vtex.client.scrub import Scrubber

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from airflow_provider_vtex.client.budget import AccountBudget
    from airflow_provider_vtex.client.config import VtexConnectionConfig
    from airflow_provider_vtex.client.routes import Route
    from airflow_provider_vtex.client.rules import RetryPolicy
    from airflow_provider_vtex.exceptions import VtexError


class AsyncVtexClient:
    """Sends requests to VTEX for one connection over one ``httpx.AsyncClient`` (create it inside the
    event loop that uses it; close it with :meth:`aclose` or ``async with``)."""

    def __init__(
        self,
        config: VtexConnectionConfig,
        policy: RetryPolicy,
        *,
        timeout: float | None = None,
        budget: AccountBudget | None = None,
        logger: Any = None,
    ) -> None:
        self.config = config
        #: The account's request budget, shared with every other process using the account: the
        #: triggerer's calls draw on its ``events`` share (:mod:`~airflow_provider_vtex.client.budget`).
        self.budget = budget
        self._pauses: set[asyncio.Task[None]] = set()
        self.policy = policy
        self.timeout = timeout if timeout is not None else config.timeout
        self.log = logger or logging.getLogger(__name__)
        self.scrub = Scrubber(config.secrets)
        self.rules = AnswerRules(config.conn_id, self.scrub)
        self.transport_errors = TransportErrors(config, self.timeout, self.scrub)
        self.retry_rules = RetryRules(policy, self.log, on_throttle=self._throttled)
        proxies, verify = environment_settings(config.base_url, config.verify)
        transport = httpx.AsyncHTTPTransport(
            verify=_ssl_verify(verify), proxy=proxies.get(urlsplit(config.base_url).scheme), retries=0
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            headers={**config.headers, "User-Agent": USER_AGENT},
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,  # resolved above, once
        )

    def _throttled(self, wait: float, retry_after: float | None) -> None:
        """A 429: every process using the account pauses for VTEX's advised time. Recorded by a task of
        the running loop, as the store's call goes through a thread (the loop never waits on it)."""
        if self.budget is not None:
            pause = self.budget.apause(throttle_pause(retry_after, self.policy.backoff_max))
            task = asyncio.get_running_loop().create_task(pause)
            self._pauses.add(task)
            task.add_done_callback(self._pauses.discard)

    async def __aenter__(self) -> AsyncVtexClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        route: Route,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        budget: Budget | None = None,
        attempts: int | None = None,
    ) -> Any:
        """As :meth:`VtexClient.request <airflow_provider_vtex.client.transport.VtexClient.request>`, awaited."""
        budget = budget or self.policy.budget()
        retrying = tenacity.AsyncRetrying(**self.retry_rules.arguments(idempotent=route.idempotent))
        return await retrying(
            self._send_once,
            route,
            path,
            json_body=json_body,
            params=params,
            budget=budget,
            attempts=attempts or budget.max_attempts,
        )

    async def _send_once(
        self,
        route: Route,
        path: str,
        *,
        json_body: Any,
        params: Mapping[str, Any] | None,
        budget: Budget,
        attempts: int,
    ) -> Any:
        method = route.method
        url = self.config.base_url + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        try:
            if self.budget is None:
                response = await self._client.request(method, url, json=json_body)
            else:
                async with self.budget.aslot("events"):
                    response = await self._client.request(method, url, json=json_body)
            content = response.content
        except httpx.RequestError as exc:
            raise self._transport_error(exc, method, path) from None
        answer = Answer(response.status_code, response.reason_phrase, response.headers, content)
        return self.rules.interpret(answer, method, path, route)

    def _transport_error(self, exc: httpx.RequestError, method: str, path: str) -> VtexError:
        """Which :class:`TransportFailure` an httpx error is."""
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            kind = TransportFailure.CONNECT_TIMEOUT
        elif isinstance(exc, httpx.ConnectError):
            tls = "ssl" in reason.lower() or "certificate" in reason.lower()
            kind = TransportFailure.TLS if tls else TransportFailure.NOT_CONNECTED
        elif isinstance(exc, httpx.ProxyError | httpx.UnsupportedProtocol | httpx.LocalProtocolError):
            kind = TransportFailure.UNSENDABLE
        elif isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
            kind = TransportFailure.READ_TIMEOUT
        elif isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
            kind = TransportFailure.TRUNCATED
        else:  # ReadError, WriteError and the like: the request may have gone out
            kind = TransportFailure.DROPPED
        return self.transport_errors.error(kind, method, path, reason, type(exc).__name__)


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a boolean, or a context trusting the CA bundle file or directory."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)
