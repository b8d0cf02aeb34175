"""The rules every VTEX client follows, whatever HTTP library carries the requests.

They decide which calls are safe to repeat:

* an idempotent call (GET, the tracking PATCH/PUT, a feed commit) is retried after 429, 5xx, a timeout,
  a dropped connection or a truncated answer;
* a call that is not (an invoice, start-handling, cancel) is retried only after answers that prove VTEX
  did nothing: 429, or a request that never left (connection refused, DNS, connect timeout). Every other
  failure is *ambiguous* (:func:`maybe_applied`): the caller must read back before sending again.

Every wait of one call (backoff, ``Retry-After``, the caller's read-backs) draws on one :class:`Budget`,
so ``max_total_wait`` bounds the whole call, not each loop separately. Every answer has the AppKey and
AppToken scrubbed at the source (:class:`~airflow_provider_vtex.client.scrub.Scrubber`, in every form a
server may echo them): the quote of an error answer, bounded, and a successful answer's JSON too, so no
message, log line, result or XCom can carry them. Nothing here imports Airflow, and no HTTP library
sends anything from here (urllib3's ``Retry-After`` parser is the one piece borrowed): the requests
client of the hook and the httpx client of the triggers share these rules.
"""

from __future__ import annotations

import enum
import json
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import tenacity
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from airflow_provider_vtex.exceptions import (
    VtexApiError,
    VtexAuthError,
    VtexBadRequestError,
    VtexConflictError,
    VtexError,
    VtexNotFoundError,
    VtexOutcomeUnknownError,
    VtexRateLimitedError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
    VtexUnexpectedResponseError,
    error_fields,
    root_cause,
)
from airflow_provider_vtex.get_provider_info import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_vtex.client.config import VtexConnectionConfig
    from airflow_provider_vtex.client.routes import Route
    from airflow_provider_vtex.client.scrub import Scrubber

USER_AGENT = f"airflow-provider-vtex/{__version__}"
#: How much of VTEX's error code an error message quotes (codes are short: ``ORD002``, ``1``).
CODE_EXCERPT_CHARS = 100
#: Statuses after which a write may or may not have been applied.
AMBIGUOUS_STATUSES = frozenset({500, 502, 503, 504})


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
    if isinstance(cause, VtexOutcomeUnknownError) and isinstance(cause.__cause__, VtexError):
        # A write whose answer was lost (a 503, say) and whose read-back failed too: as much an outage
        # as the read-back's own failure says.
        return is_outage(cause.__cause__)
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


class Answer(NamedTuple):
    """An HTTP answer, whichever library received it."""

    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class AnswerRules:
    """Turns VTEX's answers into results or typed errors, whatever HTTP library received them."""

    conn_id: str
    scrub: Scrubber = field(repr=False)

    def interpret(self, answer: Answer, method: str, path: str, route: Route) -> Any:
        """The JSON body of a success (``None`` when empty), else the error VTEX's answer means."""
        status, headers, content = answer.status, answer.headers, answer.content
        if 200 <= status < 300:
            if status == 204 or not content.strip():
                return None
            parsed = _json_or_none(content)
            if route.scalar_answer and isinstance(parsed, bool | int | float | str):
                # A route whose answer is one JSON value (a number, true/false): a string may echo anything.
                return self.scrub.value(parsed, raw=content.decode("utf-8", errors="replace"))
            if isinstance(parsed, dict | list):
                # A result, an XCom, a trigger event or a log line may quote any of it.
                return self.scrub.value(parsed, raw=content.decode("utf-8", errors="replace"))
            raise VtexUnexpectedResponseError(
                f"VTEX answered {method} {path} with {status} but a {_content_type(headers)} body instead of "
                f"JSON: {self._quote(content)!r}. An HTML page here usually means a proxy or login page, not "
                f"VTEX's API: check the base URL of connection '{self.conn_id}'.",
                http_status=status,
                method=method,
                path=path,
            )
        if 300 <= status < 400:
            raise VtexUnexpectedResponseError(
                f"VTEX answered {method} {path} with a redirect ({status}) to "
                f"{self.scrub.excerpt(headers.get('Location') or 'nowhere')!r}. Redirects are not followed, so the "
                f"credentials go only to the base URL: point connection '{self.conn_id}' at the final address.",
                http_status=status,
                method=method,
                path=path,
            )
        raise self.error_for(answer, method, path, route)

    def _quote(self, content: bytes) -> str:
        return self.scrub.excerpt(content.decode("utf-8", errors="replace"))

    def error_for(self, answer: Answer, method: str, path: str, route: Route) -> VtexApiError:
        """The typed error an HTTP error answer means, quoting VTEX's message (scrubbed)."""
        status, reason, headers, content = answer
        parsed = _json_or_none(content)
        code, message = error_fields(parsed)
        code = None if code is None else self.scrub.excerpt(code, CODE_EXCERPT_CHARS)
        message = None if message is None else self.scrub.excerpt(message)
        if message is None and parsed is None:
            said = f"a {_content_type(headers)} body: {self._quote(content)!r}" if content else "no body"
        else:
            said = f"error {code!r}: {message!r}" if code else repr(message or self._quote(content))
        head = (
            f"VTEX answered {status} {self.scrub.excerpt(reason or '', CODE_EXCERPT_CHARS)}".rstrip()
            + f" to {method} {path} ({said})."
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
                f"{head} {route.not_found or 'Check the values in the path.'}",
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


class RetryRules:
    """The retry policy as tenacity arguments, shared by the sync client (``tenacity.Retrying``) and the
    async one (``tenacity.AsyncRetrying``): same waits, same log lines, same final error.

    The per-call :class:`Budget` and attempt limit travel in the wrapped call's keyword arguments
    (``budget=``, ``attempts=``), so one ``Retrying`` built per kind of call serves every call and thread.

    :param on_throttle: called after a 429 with the caller's wait and VTEX's ``Retry-After`` (``None``
        when absent), so other callers can pause too.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        logger: Any,
        on_throttle: Callable[[float, float | None], None] | None = None,
    ) -> None:
        self.policy = policy
        self.log = logger
        self.on_throttle = on_throttle

    def arguments(self, *, idempotent: bool) -> dict[str, Any]:
        """tenacity's arguments for one kind of call (``sleep`` is left to the caller's flavour)."""
        return {
            "retry": tenacity.retry_if_exception(lambda exc: should_retry(exc, idempotent=idempotent)),
            "wait": self._wait,
            "stop": _stop,
            "before_sleep": self._log_wait,
            "retry_error_callback": self._give_up,
            "reraise": True,
        }

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """``Retry-After`` when VTEX gave one, else exponential backoff; capped by ``backoff_max``."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = float(min(retry_after, self.policy.backoff_max))
        else:
            wait = min(self.policy.backoff(state.attempt_number), self.policy.backoff_max)
        if isinstance(exc, VtexRateLimitedError) and self.on_throttle is not None:
            self.on_throttle(wait, retry_after)  # the account is throttled: every caller of this client waits
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


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _content_type(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or "untyped").split(";")[0].strip()


class TransportFailure(enum.Enum):
    """How a request failed without an HTTP answer, whatever library carried it."""

    TLS = "tls"  # the handshake failed: nothing sent
    CONNECT_TIMEOUT = "connect timeout"  # no TCP connection: nothing sent
    NOT_CONNECTED = "not connected"  # refused, DNS, unreachable: nothing sent
    UNSENDABLE = "unsendable"  # the request could not be built: nothing sent
    READ_TIMEOUT = "read timeout"  # sent, no answer in time: ambiguous
    DROPPED = "dropped"  # sent, connection closed before an answer: ambiguous
    TRUNCATED = "truncated"  # sent, the answer was cut or unreadable: ambiguous

    @property
    def request_sent(self) -> bool:
        return self in (TransportFailure.READ_TIMEOUT, TransportFailure.DROPPED, TransportFailure.TRUNCATED)


@dataclass(frozen=True)
class TransportErrors:
    """The error, with the fix in its message, for each :class:`TransportFailure` of one connection."""

    config: VtexConnectionConfig = field(repr=False)
    timeout: float
    scrub: Scrubber = field(repr=False)

    def error(self, kind: TransportFailure, method: str, path: str, reason: str, exc_name: str) -> VtexError:
        where, conn_id = self.config.base_url, self.config.conn_id
        reason = self.scrub.excerpt(reason)
        messages = {
            TransportFailure.TLS: f"TLS with {where} failed ({reason}). If the server uses a private CA or a "
            f"self-signed certificate, set the 'verify' extra of connection '{conn_id}' to its CA bundle path.",
            TransportFailure.CONNECT_TIMEOUT: f"{method} {path}: no TCP connection to {where} within "
            f"{self.timeout:g} s (request not sent).",
            TransportFailure.NOT_CONNECTED: f"{method} {path}: connection to {where} failed (request not sent): "
            f"{reason}",
            TransportFailure.UNSENDABLE: f"{method} {path}: the request to {where} could not be sent "
            f"({exc_name}: {reason}); check connection '{conn_id}'.",
            TransportFailure.READ_TIMEOUT: f"{method} {path}: VTEX did not answer within {self.timeout:g} s after "
            f"the request was sent (raise the 'timeout' extra of connection '{conn_id}' if VTEX is slow).",
            TransportFailure.DROPPED: f"{method} {path}: connection to {where} failed (after the request was "
            f"sent): {reason}",
            TransportFailure.TRUNCATED: f"{method} {path}: VTEX's answer arrived truncated or unreadable "
            f"({reason}); the request was sent, so VTEX may have applied it.",
        }
        return VtexTransportError(messages[kind], request_sent=kind.request_sent)
