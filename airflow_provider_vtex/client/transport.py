"""The HTTP client of the hook (the sync face): one pooled ``requests`` session, each attempt sent through
the :class:`~airflow_provider_vtex.client.sending.SendingPolicy` the triggers' client uses too (the
request-rate cap, 429 pauses, retries, what VTEX's answers mean, scrubbing, the reports of each attempt).

It imports nothing from Airflow. Requests are built directly from the checked route templates and the
connection's headers, and redirects are never followed (a redirect would carry the AppToken header to
another host).
"""

from __future__ import annotations

import json
import re
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

import requests
import tenacity
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from airflow_provider_vtex.client.config import VtexConnectionConfig, environment_settings
from airflow_provider_vtex.client.rules import USER_AGENT, Answer, Budget, RetryPolicy, TransportFailure
from airflow_provider_vtex.client.sending import SendingPolicy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_vtex.client.budget import AccountBudget
    from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
    from airflow_provider_vtex.client.routes import Route
    from airflow_provider_vtex.client.sending import AttemptObserver
    from airflow_provider_vtex.exceptions import VtexError


# ------------------------------------------------------------------------------------------ client
class VtexClient:
    """Sends requests to VTEX for one connection over one pooled ``requests.Session``.

    :param config: the checked connection.
    :param policy: retries and waits.
    :param timeout: seconds per request (overrides the connection's).
    :param pool_maxsize: connections kept open (raise it for concurrent use).
    :param rate_limiter: a further request-rate cap shared by every thread using this client.
    :param budget: the account's request budget, shared by every process using the account
        (:mod:`~airflow_provider_vtex.client.budget`); ``None``: none (tests, and clients built by hand).
    :param observer: told about every attempt (the hook reports them to Airflow's metrics).
    :param logger: where waits and retries are reported (the hook passes its Airflow task logger).
    :param sending: the policy every attempt goes through, when shared with the async face (the hook
        passes its own); otherwise one is built from the arguments above.
    """

    def __init__(
        self,
        config: VtexConnectionConfig,
        policy: RetryPolicy,
        *,
        timeout: float | None = None,
        pool_maxsize: int = 10,
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
        self.pool_maxsize = pool_maxsize
        self.log = self.sending.log
        # One Retrying per kind of call; tenacity keeps per-thread state, so threads may share them.
        self._retryings = {
            flag: tenacity.Retrying(
                **self.sending.retry_rules.arguments(idempotent=flag),
                sleep=lambda seconds: time.sleep(seconds),
            )
            for flag in (True, False)
        }

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session for every call, with the environment's settings resolved once."""
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_maxsize, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        proxies, verify = environment_settings(self.config.base_url, self.config.verify)
        session.trust_env = False  # no per-request scan of os.environ: resolved here instead
        session.proxies.update(proxies)
        session.verify = verify
        session.headers.update({**self.config.headers, "User-Agent": USER_AGENT})
        return session

    def close(self) -> None:
        if "session" in self.__dict__:
            self.__dict__.pop("session").close()

    # -------------------------------------------------------------------------------------- requests
    def request(
        self,
        route: Route,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        budget: Budget | None = None,
        attempts: int | None = None,
    ) -> Any:
        """Send ``route`` at ``path``, retrying what is safe to retry within ``budget``; returns the JSON
        body (``None`` when empty) or raises a :class:`VtexError`."""
        budget = budget or self.policy.budget()
        retrying = self._retryings[route.idempotent]
        return retrying(
            self._send_once,
            route,
            path,
            json_body=json_body,
            params=params,
            budget=budget,
            attempts=attempts or budget.max_attempts,
        )

    def _send_once(
        self,
        route: Route,
        path: str,
        *,
        json_body: Any,
        params: Mapping[str, Any] | None,
        budget: Budget,
        attempts: int,
    ) -> Any:
        """One attempt: send, then turn the outcome into the JSON body or a typed error."""
        method = route.method
        prepared = self._prepare(method, path, json_body, params)
        with self.sending.attempt(route) as attempt:
            started = time.monotonic()
            try:
                response = self.session.send(
                    prepared,
                    timeout=self.timeout,
                    allow_redirects=False,
                    proxies=self.session.proxies,
                    verify=self.session.verify,
                    stream=False,
                )
            except requests.exceptions.RequestException as exc:
                raise self._transport_error(exc, method, path) from None
            self.log.debug(
                "%s %s -> %s in %.0f ms",
                method,
                path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            answer = Answer(response.status_code, response.reason or "", response.headers, response.content)
            return self.sending.interpret(answer, method, path, route, attempt)

    def _prepare(
        self, method: str, path: str, json_body: Any, params: Mapping[str, Any] | None
    ) -> requests.PreparedRequest:
        """The request, built directly: the URL comes from a checked template and the headers were
        checked when the session was built, so ``Session.prepare_request`` (cookie jars, URL re-parsing,
        header re-validation, a scan of the environment) would only repeat work on every call.
        Redirects are not followed: they could carry the AppToken header to another host."""
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = self.config.base_url + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        prepared.headers = CaseInsensitiveDict(cast("Mapping[str, str]", self.session.headers))
        prepared.hooks = {"response": []}
        # An empty cookie jar: ``Session.send`` reads it when the answer is a redirect (not followed), and
        # without one a redirect crashed with AttributeError instead of becoming VtexUnexpectedResponseError.
        prepared.prepare_cookies(None)
        if json_body is not None:
            prepared.body = json.dumps(json_body, allow_nan=False).encode()
            prepared.headers["Content-Length"] = str(len(prepared.body))
        elif method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        return prepared

    def _transport_error(
        self, exc: requests.exceptions.RequestException, method: str, path: str
    ) -> VtexError:
        """Which :class:`TransportFailure` a requests/urllib3 error is."""
        if isinstance(exc, requests.exceptions.SSLError):
            kind = TransportFailure.TLS
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            kind = TransportFailure.CONNECT_TIMEOUT
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            kind = TransportFailure.READ_TIMEOUT
        elif isinstance(
            exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
        ):
            kind = TransportFailure.TRUNCATED
        elif isinstance(exc, requests.exceptions.ConnectionError):
            sent = not _failed_before_sending(exc)
            kind = TransportFailure.DROPPED if sent else TransportFailure.NOT_CONNECTED
        else:  # InvalidHeader, InvalidURL and the like: the request could not even be built
            kind = TransportFailure.UNSENDABLE
        return self.sending.transport_errors.error(kind, method, path, _reason(exc), type(exc).__name__)


def _failed_before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """True when urllib3 could not open the connection (DNS, refused, connect timeout): nothing was sent."""
    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)


def _reason(exc: BaseException) -> str:
    """The innermost readable cause of a requests/urllib3 error, without the connection-pool noise
    (``HTTPConnection(host=..., port=...): ``): the error names the URL already."""
    cause: Any = exc.args[0] if exc.args else exc
    reason = getattr(cause, "reason", None)
    return re.sub(r"^\w*Connection\([^)]*\):\s*", "", str(reason or cause))
