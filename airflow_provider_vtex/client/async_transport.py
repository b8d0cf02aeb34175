"""The async client of the triggers (the async face): the hook's client over ``httpx.AsyncClient``.

Why httpx: Airflow installs it (a core dependency of Airflow 2.10+ and of Airflow 3's task SDK), so the
triggerer needs nothing new, and it is the async client Airflow itself uses. Each attempt goes through
the same :class:`~airflow_provider_vtex.client.sending.SendingPolicy` as the hook's (the account's request
budget, on the triggerer's ``events`` share; the request-rate cap and 429 pauses, shared with the hook's
threads when the hook passes its own; 429/503 waits within one
budget; error mapping; token scrubbing; the reports of each attempt), with the same headers, timeouts and
environment's proxies and CA bundle (resolved once), so a trigger behaves as the hook does. Redirects
are not followed, for the same reason as in the hook.
"""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx
import tenacity

from airflow_provider_vtex.client import rate_limit
from airflow_provider_vtex.client.config import environment_settings
from airflow_provider_vtex.client.rules import USER_AGENT, Answer, Budget, TransportFailure
from airflow_provider_vtex.client.sending import SendingPolicy

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from airflow_provider_vtex.client.budget import AccountBudget
    from airflow_provider_vtex.client.config import VtexConnectionConfig
    from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
    from airflow_provider_vtex.client.routes import Route
    from airflow_provider_vtex.client.rules import RetryPolicy
    from airflow_provider_vtex.client.sending import AttemptObserver
    from airflow_provider_vtex.exceptions import VtexError


class AsyncVtexClient:
    """Sends requests to VTEX for one connection over one ``httpx.AsyncClient`` (create it inside the
    event loop that uses it; close it with :meth:`aclose` or ``async with``). The arguments are
    :class:`~airflow_provider_vtex.client.transport.VtexClient`'s."""

    def __init__(
        self,
        config: VtexConnectionConfig,
        policy: RetryPolicy,
        *,
        timeout: float | None = None,
        rate_limiter: RequestRateLimiter | None = None,
        budget: AccountBudget | None = None,
        observer: AttemptObserver | None = None,
        logger: Any = None,
        sending: SendingPolicy | None = None,
    ) -> None:
        self.sending = sending or SendingPolicy(
            config,
            policy,
            timeout=timeout,
            rate_limiter=rate_limiter,
            budget=budget,
            observer=observer,
            logger=logger,
        )
        self.config = config
        self.policy = policy
        self.timeout = self.sending.timeout
        self.log = self.sending.log
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
        retrying = tenacity.AsyncRetrying(
            **self.sending.retry_rules.arguments(idempotent=route.idempotent),
            sleep=lambda seconds: rate_limit.sleep_async(seconds),  # looked up at each wait: one seam
        )
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
        async with self.sending.attempt_async(route) as attempt:
            try:
                response = await self._client.request(method, url, json=json_body)
                content = response.content
            except httpx.RequestError as exc:
                raise self._transport_error(exc, method, path) from None
            answer = Answer(response.status_code, response.reason_phrase, response.headers, content)
            return self.sending.interpret(answer, method, path, route, attempt)

    def _transport_error(self, exc: httpx.RequestError, method: str, path: str) -> VtexError:
        """Which :class:`TransportFailure` an httpx error is."""
        # Scrubbed before it is read: a token that happens to hold "ssl" must not make this a TLS failure.
        reason = self.sending.scrub(str(exc)) or type(exc).__name__
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
        return self.sending.transport_errors.error(kind, method, path, reason, type(exc).__name__)


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a boolean, or a context trusting the CA bundle file or directory."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)
