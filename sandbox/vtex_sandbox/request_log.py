"""The request log: every VTEX call the sandbox received, bounded and free of secrets.

The AppToken never reaches the log: not in a header (whatever its name), the path, the query, the
body, nor the ``orderId``/``invoiceNumber`` fields read from them -- a careless client may put it
anywhere, and a log is what people paste into tickets. The log also answers load-test questions
(:meth:`RequestLog.busiest_second`) so tests need not recompute them from the entries.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, quote_plus

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
        """Store a finished entry (it must already be redacted, see :func:`fill_entry`)."""
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

    def busiest_second(self) -> dict[str, Any]:
        """The most requests in any one-second window (sliding over the log's time stamps), overall and
        per route: what a rate limit of N requests per second is judged by."""
        with self._lock:
            stamps = [(e.get("route"), e["timestamp"]) for e in self._entries if "timestamp" in e]
        by_route: dict[str, list[float]] = {}
        for route, stamp in stamps:
            by_route.setdefault(str(route), []).append(stamp)
        return {
            "requests": len(stamps),
            "busiestSecond": busiest_window([s for _, s in stamps]),
            "routes": {
                route: {"requests": len(times), "busiestSecond": busiest_window(times)}
                for route, times in sorted(by_route.items())
            },
        }


def busiest_window(stamps: list[float], width: float = 1.0) -> dict[str, Any]:
    """``{"count", "start"}``: most time stamps in any half-open window ``[t, t + width)`` starting at a
    stamp (the busiest window always starts at one), and where it starts (epoch seconds)."""
    ordered = sorted(stamps)
    best, best_start, end = 0, None, 0
    for begin, start in enumerate(ordered):
        end = max(end, begin)
        while end < len(ordered) and ordered[end] < start + width:
            end += 1
        if end - begin > best:
            best, best_start = end - begin, start
    return {"count": best, "start": best_start}


REDACTED = "***REDACTED***"
#: Headers whose values are credentials, redacted whatever they hold.
_SECRET_HEADERS = frozenset({"x-vtex-api-apptoken", "vtexidclientautcookie", "authorization", "cookie"})


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as sent raw and URL-encoded (a token in a path or query arrives encoded), longest
    first so a longer form is replaced before a shorter one inside it."""
    forms = {form for s in secrets if s for form in (s, quote(s, safe=""), quote_plus(s), quote(s))}
    return sorted(forms, key=len, reverse=True)


def scrub(value: Any, hidden: Iterable[str]) -> Any:
    """Replace every occurrence of a secret inside a JSON value, keys included."""
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
    secrets: Iterable[str],
    duration_ms: float,
) -> None:
    """Fill a log entry with what the client sent, then redact every secret in every field."""
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
    entry.setdefault("timestamp", time.time())
    hidden = secret_forms(secrets)
    for key, value in list(entry.items()):
        entry[key] = scrub(value, hidden)
