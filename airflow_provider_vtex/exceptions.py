"""Errors raised by the VTEX provider.

Errors are part of the interface: each one says what went wrong, where, and what to do, and never
carries the AppToken or the AppKey (the client scrubs both from everything it quotes). ``retryable``
tells the operators whether an Airflow task retry could help: a bad payload, a rejected credential or an
unknown order fail the task at once instead of burning retries.

This module imports nothing from Airflow, so the HTTP client and the sandbox tests can use it without
Airflow. The operators translate these errors into Airflow's: non-retryable ones become
``AirflowFailException``; retryable ones propagate so the task's ``retries`` apply.
"""

from __future__ import annotations

import json
from typing import Any

#: How much of an unexpected response body an error message quotes.
BODY_EXCERPT_CHARS = 300
#: A :class:`VtexPayloadError` lists this many problems at most, each field path and message cut at these
#: lengths (what a reader needs to find and fix the value; never the value itself at any size).
MAX_PROBLEMS_SHOWN = 20
MAX_FIELD_CHARS = 200
MAX_PROBLEM_CHARS = 600


class VtexError(Exception):
    """Base class of every error this provider raises."""

    #: Whether running the same call again later could succeed.
    retryable: bool = False


class VtexConnectionConfigError(VtexError):
    """The Airflow connection lacks a field or holds a value the hook refuses to use."""


class VtexUnsupportedError(VtexError):
    """The call does not exist for this connection (for example tracking on the PII data architecture)."""


class VtexPayloadError(VtexError, ValueError):
    """A payload or an argument broke VTEX's contract; raised before any request is sent.

    ``errors`` lists ``(field, message)`` pairs, ``field`` being the dotted path such as
    ``items.0.price``.
    """

    def __init__(self, what: str, errors: list[tuple[str, str]]) -> None:
        self.what = what
        # Bounded here, for every caller: a field path or a message quotes what came in, and a 10 MB key
        # or value must not make a 10 MB message (nor a million unknown keys a million lines).
        self.errors = [
            (_cut(field, MAX_FIELD_CHARS), _cut(message, MAX_PROBLEM_CHARS)) for field, message in errors
        ]
        lines = "\n".join(f"  - {field}: {message}" for field, message in self.errors[:MAX_PROBLEMS_SHOWN])
        if len(errors) > MAX_PROBLEMS_SHOWN:
            lines += f"\n  - and {len(errors) - MAX_PROBLEMS_SHOWN:,} more problem(s) of the same payload"
        plural = "s" if len(errors) > 1 else ""
        super().__init__(f"Invalid {what} ({len(errors):,} problem{plural}):\n{lines}")


class VtexTransportError(VtexError):
    """No usable HTTP response: the host was unreachable, the connection dropped, a timeout hit, or the
    answer arrived truncated. ``request_sent`` says whether VTEX may have received the request."""

    retryable = True

    def __init__(self, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(message)


class VtexOutcomeUnknownError(VtexError):
    """A write may have reached VTEX, and nothing could tell whether VTEX applied it.

    Sending it again could double-invoice the order, so nothing is re-sent; a retry of the task reads
    the order back first.
    """

    retryable = True

    def __init__(self, message: str, *, order_id: str, what: str) -> None:
        self.order_id = order_id
        self.what = what
        super().__init__(message)


class VtexInvoiceAlreadySentError(VtexError):
    """VTEX already holds the invoice and the caller asked to fail in that case (``if_already_invoiced='fail'``)."""

    def __init__(self, message: str, *, order_id: str, invoice_number: str) -> None:
        self.order_id = order_id
        self.invoice_number = invoice_number
        super().__init__(message)


class VtexInvoiceNotVisibleError(VtexError):
    """The order does not show the invoice a call needs (tracking goes onto an invoice VTEX holds).

    Retryable: VTEX shows a new invoice only seconds after accepting it.
    """

    retryable = True


class VtexStatusNotAllowedError(VtexError):
    """The order (or change request) is, as read before sending, in a status where VTEX refuses the action
    for good: cancelling an invoiced order, modifying a canceled one. Nothing was sent; the message says
    what to do instead (a return invoice, for example). Not retryable: waiting does not change it."""

    def __init__(self, message: str, *, order_id: str, status: str) -> None:
        self.order_id = order_id
        self.status = status
        super().__init__(message)


class VtexApiError(VtexError):
    """VTEX answered with an error status (or with a body that is not the JSON the route promises)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        method: str,
        path: str,
        error_code: str | None = None,
        error_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.method = method
        self.path = path
        self.error_code = error_code
        self.error_message = error_message
        self.retry_after = retry_after
        super().__init__(message)


class VtexBadRequestError(VtexApiError):
    """400/409/422...: VTEX refused the request as it stands; resending it cannot help."""


class VtexConflictError(VtexBadRequestError):
    """409: the order is not in a status that allows the action (VTEX's OMS003)."""


class VtexAuthError(VtexApiError):
    """401/403: the AppKey/AppToken were rejected, or the key's role lacks a License Manager resource."""


class VtexNotFoundError(VtexApiError):
    """404: the order (or the invoice on it, or the feed configuration) does not exist in this account."""


class VtexRateLimitedError(VtexApiError):
    """429: VTEX throttled the account."""

    retryable = True


class VtexServerError(VtexApiError):
    """5xx: VTEX failed or its circuit breaker is open (503)."""

    retryable = True


class VtexUnexpectedResponseError(VtexApiError):
    """VTEX answered a JSON route with something else, such as an HTML error or login page."""

    retryable = True


class VtexRetriesExhaustedError(VtexError):
    """Every attempt the call was allowed failed with a retryable error; ``last_error`` is the final one."""

    retryable = True

    def __init__(self, message: str, *, attempts: int, last_error: VtexError) -> None:
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(message)


def root_cause(exc: VtexError) -> VtexError:
    """The error behind a :class:`VtexRetriesExhaustedError`, else the error itself."""
    return exc.last_error if isinstance(exc, VtexRetriesExhaustedError) else exc


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters in all)"


def excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """A one-line, bounded quote of a response body for an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def json_kind(value: Any) -> str:
    """What a parsed answer is, for a message that must not quote it: "a JSON object (3 key(s))"."""
    if value is None:
        return "an empty body (or JSON null)"
    if isinstance(value, dict):
        return f"a JSON object ({len(value)} key(s))"
    if isinstance(value, list):
        return f"a JSON list ({len(value)} element(s))"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    return "a JSON string"


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """Pull ``code`` and ``message`` out of VTEX's ``{"error": {"code", "message"}}`` error body.

    A ``message`` that is not a string (an object, a list) is quoted as the JSON VTEX sent, not as
    Python's ``repr`` of it."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            return (None if code is None else _text(code), None if message is None else _text(message))
        if isinstance(body.get("message"), str):
            return None, str(body["message"])
    return None, None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
