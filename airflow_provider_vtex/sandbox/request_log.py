"""The request log: every VTEX call the sandbox received, bounded and free of secrets."""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from collections.abc import Iterable


class RequestLog:
    """Bounded, thread-safe log of the VTEX calls the sandbox received.

    Bounded because a long-running CLI sandbox under a load test must not grow without limit. The
    server scrubs the AppToken before an entry gets here; this class never sees a secret.
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._next_id = 1

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["id"] = self._next_id
            self._next_id += 1
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        order_id: str | None = None,
        status: int | str | None = None,
        invoice_number: str | None = None,
    ) -> int:
        """How many logged requests match every given filter (``None`` = any)."""
        wanted = {
            "method": method.upper() if method else None,
            "route": route,
            "orderId": order_id,
            "status": status,
            "invoiceNumber": invoice_number,
        }
        filters = [(k, v) for k, v in wanted.items() if v is not None]
        with self._lock:
            return sum(1 for e in self._entries if all(e.get(k) == v for k, v in filters))


REDACTED = "***REDACTED***"
#: Headers whose values are credentials and never reach the request log.
_SECRET_HEADERS = frozenset({"x-vtex-api-apptoken", "vtexidclientautcookie", "authorization", "cookie"})


def scrub(value: Any, hidden: Iterable[str]) -> Any:
    """Replace every occurrence of a secret inside a JSON value (the client may leak it anywhere)."""
    if isinstance(value, str):
        for secret in hidden:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [scrub(v, hidden) for v in value]
    if isinstance(value, dict):
        return {scrub(k, hidden): scrub(v, hidden) for k, v in value.items()}
    return value


def fill_entry(
    entry: dict[str, Any],
    *,
    headers: Iterable[tuple[str, str]],
    raw_query: str,
    raw_body: bytes,
    body: Any,
    hidden: list[str],
    duration_ms: float,
) -> None:
    """Fill a log entry with what the client sent; every credential is redacted here, before storage."""
    entry_headers = {
        name: (REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in headers
    }
    query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
    if body is None and raw_body:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            body = raw_body.decode("utf-8", "replace")
    entry["query"] = query
    entry["headers"] = entry_headers
    entry["body"] = body
    entry["durationMs"] = round(duration_ms, 3)
    text = entry["path"] + raw_query + raw_body.decode("utf-8", "replace")
    if any(h in text for h in hidden):
        for key in ("path", "query", "body"):
            entry[key] = scrub(entry[key], hidden)
