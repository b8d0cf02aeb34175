"""The HTTP client for VTEX: one pooled session, the retry policy, and the mapping of answers to errors.

It imports nothing from Airflow, so the async client of the triggers and the sandbox tests reuse its
rules, and it knows which calls are safe to repeat:

* an idempotent call (GET, the tracking PATCH/PUT, a feed commit) is retried after 429, 5xx, a timeout,
  a dropped connection or a truncated answer;
* a call that is not (an invoice, start-handling, cancel) is retried only after answers that prove VTEX
  did nothing: 429, or a request that never left (connection refused, DNS, connect timeout). Every other
  failure is *ambiguous* (:func:`maybe_applied`): the caller must read back before sending again.

Every wait of one call (backoff, ``Retry-After``, the caller's read-backs) draws on one :class:`Budget`,
so ``max_total_wait`` bounds the whole call, not each loop separately. Every quote of VTEX's answer or of
a request error has the AppKey and AppToken scrubbed at the source, so no message, log line or XCom can
carry them.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

import requests
import tenacity
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from airflow_provider_vtex.exceptions import (
    VtexApiError,
    VtexAuthError,
    VtexBadRequestError,
    VtexConflictError,
    VtexError,
    VtexNotFoundError,
    VtexRateLimitedError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
    VtexUnexpectedResponseError,
    error_fields,
    excerpt,
    root_cause,
)
from airflow_provider_vtex.get_provider_info import __version__
from airflow_provider_vtex.hooks.config import VtexConnectionConfig, environment_settings
from airflow_provider_vtex.hooks.rate_limit import RequestRateLimiter

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_provider_vtex.hooks.routes import Route

USER_AGENT = f"airflow-provider-vtex/{__version__}"
#: Statuses after which a write may or may not have been applied.
AMBIGUOUS_STATUSES = frozenset({500, 502, 503, 504})
REDACTED = "***"


# ------------------------------------------------------------------------------------------ policy
@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one call may retry.

    :param max_retries: retries of one request after a retryable failure.
    :param backoff_initial: the first backoff step in seconds; each retry doubles it.
    :param backoff_max: cap on any single wait, including a ``Retry-After`` VTEX asks for.
    :param max_total_wait: no wait may end later than this many seconds after the call started.
    """

    max_retries: int
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_total_wait: float = 300.0

    def backoff(self, retry_number: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of ``initial * 2**(n-1)``.

        Half is fixed so the waits really grow; half is random so many clients do not retry in step.
        """
        step = min(self.backoff_max, self.backoff_initial * 2.0 ** (retry_number - 1))
        return step / 2 + random.uniform(0, step / 2)

    def budget(self) -> Budget:
        return Budget(deadline=time.monotonic() + self.max_total_wait, max_attempts=self.max_retries + 1)


@dataclass
class Budget:
    """What one call (a request with its retries, read-backs and resends) may still spend."""

    deadline: float
    max_attempts: int

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def allows(self, seconds: float) -> bool:
        return seconds <= self.remaining()


# ------------------------------------------------------------------------------------------ rules
def maybe_applied(exc: VtexError) -> bool:
    """Whether a failed request may nevertheless have been applied by VTEX (read back before resending)."""
    cause = root_cause(exc)
    if isinstance(cause, VtexTransportError):
        return cause.request_sent
    if isinstance(cause, VtexUnexpectedResponseError):
        return True
    return isinstance(cause, VtexApiError) and cause.http_status in AMBIGUOUS_STATUSES


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether sending the same request again is both useful and safe."""
    if isinstance(exc, VtexTransportError):
        return idempotent or not exc.request_sent
    if isinstance(exc, VtexRateLimitedError):
        return True
    if isinstance(exc, VtexApiError) and exc.http_status >= 500:
        return idempotent
    return False


def is_outage(exc: VtexError) -> bool:
    """Whether a failure says VTEX (or the way to it) is down or throttling, rather than this request
    being wrong: what a circuit breaker counts."""
    cause = root_cause(exc)
    if isinstance(cause, VtexTransportError):
        return True
    return isinstance(cause, VtexApiError) and (cause.http_status == 429 or cause.http_status >= 500)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), via urllib3's parser; None if absent
    or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (InvalidHeader, ValueError, OverflowError):
        return None


class Scrubber:
    """Replaces the connection's secrets wherever a message quotes VTEX's answer or a request error."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(sorted((s for s in secrets if s), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


@dataclass(frozen=True)
class AnswerRules:
    """Turns VTEX's answers into results or typed errors, whatever HTTP library received them."""

    conn_id: str
    scrub: Scrubber = field(repr=False)

    def interpret(
        self,
        status: int,
        reason: str,
        headers: Mapping[str, str],
        content: bytes,
        method: str,
        path: str,
        route: Route,
    ) -> Any:
        """The JSON body of a success (``None`` when empty), else the error VTEX's answer means."""
        if 200 <= status < 300:
            if status == 204 or not content.strip():
                return None
            parsed = _json_or_none(content)
            if not isinstance(parsed, dict | list):
                raise VtexUnexpectedResponseError(
                    f"VTEX answered {method} {path} with {status} but a {_content_type(headers)} body instead of "
                    f"JSON: {self._quote(content)!r}. An HTML page here usually means a proxy or login page, not "
                    f"VTEX's API: check the base URL of connection '{self.conn_id}'.",
                    http_status=status,
                    method=method,
                    path=path,
                )
            return parsed
        if 300 <= status < 400:
            raise VtexUnexpectedResponseError(
                f"VTEX answered {method} {path} with a redirect ({status}) to "
                f"{self.scrub(headers.get('Location') or 'nowhere')!r}. Redirects are not followed, so the "
                f"credentials go only to the base URL: point connection '{self.conn_id}' at the final address.",
                http_status=status,
                method=method,
                path=path,
            )
        raise self.error_for(status, reason, headers, content, method, path, route)

    def _quote(self, content: bytes) -> str:
        return excerpt(self.scrub(content.decode("utf-8", errors="replace")))

    def error_for(
        self,
        status: int,
        reason: str,
        headers: Mapping[str, str],
        content: bytes,
        method: str,
        path: str,
        route: Route,
    ) -> VtexApiError:
        parsed = _json_or_none(content)
        code, message = error_fields(parsed)
        code = None if code is None else self.scrub(code)
        message = None if message is None else self.scrub(message)
        if message is None and parsed is None:
            said = f"a {_content_type(headers)} body: {self._quote(content)!r}" if content else "no body"
        else:
            said = f"error {code!r}: {message!r}" if code else repr(message or self._quote(content))
        head = (
            f"VTEX answered {status} {self.scrub(reason or '')}".rstrip() + f" to {method} {path} ({said})."
        )
        details: dict[str, Any] = {
            "http_status": status,
            "method": method,
            "path": path,
            "error_code": code,
            "error_message": message,
        }
        if status == 401:
            return VtexAuthError(
                f"{head} The App Key/App Token of connection '{self.conn_id}' were rejected: check its login and "
                "password.",
                **details,
            )
        if status == 403:
            return VtexAuthError(
                f"{head} The App Key of connection '{self.conn_id}' lacks the License Manager resource "
                f"'{route.resource}' (product OMS, category OMS access): add it to the key's role.",
                **details,
            )
        if status == 404:
            return VtexNotFoundError(
                f"{head} Check the order id and invoice number; in marketplace flows the invoice goes to the "
                "seller (fulfillment) account's order, and only orders of the last two years can be reached.",
                **details,
            )
        if status == 409:
            return VtexConflictError(
                f"{head} The order's status does not allow this action now; read the order to see its status.",
                **details,
            )
        if status == 429:
            wait = retry_after_seconds(headers.get("Retry-After"))
            return VtexRateLimitedError(
                f"{head} The account is rate-limited; VTEX asked to wait "
                f"{f'{wait:g} s' if wait is not None else 'an unspecified time'}.",
                retry_after=wait,
                **details,
            )
        if status >= 500:
            hint = (
                "VTEX's circuit breaker is open; it should recover shortly."
                if status == 503
                else "VTEX or a gateway in front of it failed."
            )
            return VtexServerError(
                f"{head} {hint}", retry_after=retry_after_seconds(headers.get("Retry-After")), **details
            )
        return VtexBadRequestError(
            f"{head} VTEX refused the request as sent; sending it again will not help: fix the payload or the "
            "order's state first.",
            **details,
        )


# ------------------------------------------------------------------------------------------ client
class VtexClient:
    """Sends requests to VTEX for one connection over one pooled ``requests.Session``.

    :param config: the checked connection.
    :param policy: retries and waits.
    :param timeout: seconds per request (overrides the connection's).
    :param pool_maxsize: connections kept open (raise it for concurrent use).
    :param rate_limiter: the request-rate cap shared by every thread using this client.
    :param logger: where waits and retries are reported (the hook passes its Airflow task logger).
    """

    def __init__(
        self,
        config: VtexConnectionConfig,
        policy: RetryPolicy,
        *,
        timeout: float | None = None,
        pool_maxsize: int = 10,
        rate_limiter: RequestRateLimiter | None = None,
        logger: Any = None,
    ) -> None:
        self.config = config
        self.policy = policy
        self.timeout = timeout if timeout is not None else config.timeout
        self.pool_maxsize = pool_maxsize
        self.rate_limiter = rate_limiter or RequestRateLimiter(None)
        self.log = logger or logging.getLogger(__name__)
        self.scrub = Scrubber(config.secrets)
        self.rules = AnswerRules(config.conn_id, self.scrub)
        self._retryings = {flag: self._build_retrying(idempotent=flag) for flag in (True, False)}

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
        with self.rate_limiter.slot():
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
            "%s %s -> %s in %.0f ms", method, path, response.status_code, (time.monotonic() - started) * 1000
        )
        return self.rules.interpret(
            response.status_code,
            response.reason or "",
            response.headers,
            response.content,
            method,
            path,
            route,
        )

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
        if json_body is not None:
            prepared.body = json.dumps(json_body, allow_nan=False).encode()
            prepared.headers["Content-Length"] = str(len(prepared.body))
        elif method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        return prepared

    def _transport_error(
        self, exc: requests.exceptions.RequestException, method: str, path: str
    ) -> VtexError:
        where, conn_id = self.config.base_url, self.config.conn_id
        if isinstance(exc, requests.exceptions.SSLError):
            return VtexTransportError(
                f"TLS with {where} failed ({self.scrub(_reason(exc))}). If the server uses a private CA or a "
                f"self-signed certificate, set the 'verify' extra of connection '{conn_id}' to its CA bundle path.",
                request_sent=False,
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return VtexTransportError(
                f"{method} {path}: no TCP connection to {where} within {self.timeout:g} s (request not sent).",
                request_sent=False,
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return VtexTransportError(
                f"{method} {path}: VTEX did not answer within {self.timeout:g} s after the request was sent "
                f"(raise the 'timeout' extra of connection '{conn_id}' if VTEX is slow).",
                request_sent=True,
            )
        if isinstance(
            exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
        ):
            return VtexTransportError(
                f"{method} {path}: VTEX's answer arrived truncated or unreadable ({self.scrub(_reason(exc))}); "
                "the request was sent, so VTEX may have applied it.",
                request_sent=True,
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            sent = not _failed_before_sending(exc)
            when = "after the request was sent" if sent else "request not sent"
            return VtexTransportError(
                f"{method} {path}: connection to {where} failed ({when}): {self.scrub(_reason(exc))}",
                request_sent=sent,
            )
        # InvalidHeader, InvalidURL and the like: the request could not even be built.
        return VtexTransportError(
            f"{method} {path}: the request to {where} could not be sent ({type(exc).__name__}: "
            f"{self.scrub(_reason(exc))}); check connection '{conn_id}'.",
            request_sent=False,
        )

    # -------------------------------------------------------------------------------------- retries
    def _build_retrying(self, *, idempotent: bool) -> tenacity.Retrying:
        """The retry policy of one kind of call, built once; the per-call budget travels in the call's
        keyword arguments (tenacity keeps per-thread state, so threads may share it)."""
        return tenacity.Retrying(**self.retry_arguments(idempotent=idempotent))

    def retry_arguments(self, *, idempotent: bool) -> dict[str, Any]:
        """tenacity's arguments for this client's policy; the async client passes the same ones to
        ``tenacity.AsyncRetrying``."""
        return {
            "retry": tenacity.retry_if_exception(lambda exc: should_retry(exc, idempotent=idempotent)),
            "wait": self._wait,
            "stop": _stop,
            "before_sleep": self._log_wait,
            "retry_error_callback": self._give_up,
            "reraise": True,
            "sleep": lambda seconds: time.sleep(seconds),
        }

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """``Retry-After`` when VTEX gave one, else exponential backoff; capped by ``backoff_max``."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = float(min(retry_after, self.policy.backoff_max))
        else:
            wait = min(self.policy.backoff(state.attempt_number), self.policy.backoff_max)
        if isinstance(exc, VtexRateLimitedError):
            self.rate_limiter.hold(wait)  # the account is throttled: every thread of this client waits
        return wait

    def _log_wait(self, state: tenacity.RetryCallState) -> None:
        route, path = state.args[0], state.args[1]
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        reason = "Retry-After" if getattr(exc, "retry_after", None) is not None else "backoff"
        self.log.info(
            "VTEX %s %s failed on attempt %d of %d (%s); waiting %.2f s (%s) before retrying.",
            route.method,
            path,
            state.attempt_number,
            state.kwargs["attempts"],
            short(exc),
            seconds,
            reason,
        )

    def _give_up(self, state: tenacity.RetryCallState) -> Any:
        route, path = state.args[0], state.args[1]
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, VtexError)
        waited = state.seconds_since_start or 0.0
        budget: Budget = state.kwargs["budget"]
        why = (
            "the call's time budget (max_total_wait) would run out before the next try"
            if state.attempt_number < state.kwargs["attempts"]
            else f"max_retries={state.kwargs['attempts'] - 1}"
        )
        raise VtexRetriesExhaustedError(
            f"Gave up on {route.method} {path} after {state.attempt_number} attempt(s) over {waited:.1f} s ({why}; "
            f"{max(0.0, budget.remaining()):.0f} s of the call's budget left). VTEX last answered: {exc}",
            attempts=state.attempt_number,
            last_error=exc,
        ) from exc


def _stop(state: tenacity.RetryCallState) -> bool:
    """Stop after the call's attempts, or when the next wait would end past the call's deadline."""
    budget: Budget = state.kwargs["budget"]
    if state.attempt_number >= state.kwargs["attempts"]:
        return True
    return not budget.allows(state.upcoming_sleep)


def short(exc: BaseException | None) -> str:
    """A few words naming a failure, for log lines."""
    if isinstance(exc, VtexApiError):
        return f"HTTP {exc.http_status}"
    return type(exc).__name__ if exc else "unknown"


def _failed_before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """True when urllib3 could not open the connection (DNS, refused, connect timeout): nothing was sent."""
    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _content_type(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or "untyped").split(";")[0].strip()


def _reason(exc: BaseException) -> str:
    """The innermost readable cause of a requests/urllib3 error, without the URL pool noise."""
    cause: Any = exc.args[0] if exc.args else exc
    reason = getattr(cause, "reason", None)
    return str(reason or cause)
