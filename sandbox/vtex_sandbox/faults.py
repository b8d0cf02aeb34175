"""Fault injection for the VTEX sandbox.

A client that talks to VTEX must survive what VTEX really does under load: 429 with ``Retry-After``,
503 from circuit breakers, HTML error pages from the edge, slow answers, and -- the nastiest one --
a write that was applied but whose response never arrived. Each of these is a :class:`Fault` rule
bound to one sandbox route (or ``*``). Rules are matched in the order they were added, so a test can
script a sequence such as "first a 503, then a 429, then success".

This module is standard library only and knows nothing about HTTP handling: it decides *what* should
happen to a request, and the server carries it out.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from vtex_sandbox.routes import ROUTE_NAMES

#: Route names a fault can target. They name the VTEX operations, not URL patterns, so a rule keeps
#: working whatever order id or invoice number the client uses, and in both data architectures.
ROUTES: frozenset[str] = ROUTE_NAMES | {"*"}

#: Supported fault kinds (see :class:`Fault`).
KINDS: frozenset[str] = frozenset(
    {
        "rate_limit",
        "status",
        "latency",
        "drop_after_commit",
        "error_after_commit",
        "html",
        "truncated",
        "truncated_after_commit",
        "echo_headers",
        "body",
    }
)
#: Kinds whose answer replaces VTEX's: the request is not handled at all.
REPLACING_KINDS: frozenset[str] = frozenset(
    {"rate_limit", "status", "html", "truncated", "echo_headers", "body"}
)

_FIELDS = ("route", "kind", "count", "status", "retry_after", "rps", "latency", "every", "body")
#: Options the CLI form ``route:kind:key=value`` takes (numbers; a ``body`` is JSON, given over HTTP or
#: in Python only).
_CLI_OPTIONS = ("count", "status", "retry_after", "rps", "latency", "every")


class FaultError(ValueError):
    """A fault rule is malformed (unknown route or kind, bad option)."""


@dataclass
class Fault:
    """One fault rule.

    * ``route``: ``invoice`` (POST invoice), ``tracking_number`` (PATCH), ``tracking_status`` (PUT
      tracking), ``get_order``, ``list_orders``, ``start_handling``, ``cancel``, ``payment_notification``, the order feed's
      ``feed`` (GET: a read), ``feed_commit`` (POST: a commit), ``feed_config`` (its GET, POST and
      DELETE), ``jsonata`` (the expression test), or ``*`` (every VTEX route; never the admin routes).
      The names are the same in both data architectures. On a feed read, ``drop_after_commit`` hands
      the events out (they come back after the visibility timeout) and loses the answer.
    * ``kind``:

      - ``rate_limit``: answer 429 with a ``Retry-After`` header for the next ``count`` requests or,
        with ``rps=R``, whenever more than R requests arrived on the route in the current one-second
        window (the window opens with the first request and lasts one second);
      - ``status``: answer ``status`` (default 500) with a JSON error body;
      - ``latency``: sleep ``latency`` seconds, then handle the request normally;
      - ``drop_after_commit``: handle the request (state changes, a receipt is made), then close the
        connection without writing any response -- the "did my invoice go through?" case;
      - ``error_after_commit``: handle the request (the write is applied), then answer ``status``
        (default 500) with a JSON error body -- VTEX failing after it saved the invoice;
      - ``html``: answer an HTML error page (status default 502), as VTEX's edge sometimes does;
      - ``truncated``: do NOT handle the request; answer ``status`` (default 502) with a JSON error body
        cut in the middle (``Content-Length`` announces more than is written), then close the
        connection -- a proxy dying mid-answer;
      - ``truncated_after_commit``: handle the request (the write is applied), then cut VTEX's real
        answer short the same way -- the client cannot tell whether its write went through;
      - ``echo_headers``: do NOT handle the request; answer ``status`` (default 400) with a JSON error
        whose message quotes the request's headers, credentials included, as a debugging proxy or a
        gateway's error page may -- what a client must never pass on to its logs or results;
      - ``body``: do NOT handle the request; answer ``status`` (default 200) with ``body``, any JSON value,
        as written -- a feed lot with a malformed item, an object where VTEX answers a list: what a
        client must read without losing the good part.

    * ``count``: how many requests the rule affects; ``None`` means every request (for ``rps`` rules:
      every request over the limit).
    * ``body``: the JSON value a ``body`` rule answers (required by that kind, refused by the others).
    * ``retry_after``: seconds sent in ``Retry-After`` (``rate_limit`` only); ``None`` uses the
      sandbox default.
    * ``every``: the rule fires on one request in ``every`` (the ``every``-th, the ``2 * every``-th...
      arriving on its route) and lets the others through, so a long run meets a steady share of faults
      (``count`` then bounds how many times it fires). Not with ``rps``.
    """

    route: str
    kind: str
    count: int | None = None
    status: int | None = None
    retry_after: int | None = None
    rps: float | None = None
    latency: float | None = None
    every: int | None = None
    body: Any = None
    # Book-keeping, not part of the rule's identity.
    remaining: int | None = field(default=None, init=False, repr=False, compare=False)
    _window_start: float = field(default=0.0, init=False, repr=False, compare=False)
    _window_hits: int = field(default=0, init=False, repr=False, compare=False)
    _arrivals: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise FaultError(f"unknown fault route {self.route!r}; expected one of {sorted(ROUTES)}")
        if self.kind not in KINDS:
            raise FaultError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.count is not None and (_not_int(self.count) or self.count < 1):
            raise FaultError("count must be a positive integer or None (every request)")
        if self.status is not None and (_not_int(self.status) or not 100 <= self.status <= 599):
            raise FaultError("status must be an HTTP status code (100-599)")
        if self.retry_after is not None and (_not_int(self.retry_after) or self.retry_after < 0):
            raise FaultError("retry_after must be a non-negative integer (seconds, as in Retry-After)")
        if self.rps is not None:
            if self.kind != "rate_limit":
                raise FaultError("rps only applies to kind 'rate_limit'")
            if not _is_number(self.rps) or self.rps < 0:
                raise FaultError("rps must be a non-negative number")
        if self.every is not None:
            if _not_int(self.every) or self.every < 1:
                raise FaultError("every must be a positive integer (the rule fires on one request in every)")
            if self.rps is not None:
                raise FaultError("every and rps cannot be combined: pick one way of spreading the faults")
        if self.kind == "latency" and (
            self.latency is None or not _is_number(self.latency) or self.latency < 0
        ):
            raise FaultError("kind 'latency' needs latency=<seconds> (a non-negative number)")
        if (self.kind == "body") != (self.body is not None):
            raise FaultError("body=<JSON value> goes with kind 'body', and only with it")
        self.remaining = self.count

    # -- (de)serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view, including how many uses are left (for ``GET /_sandbox/faults``)."""
        data: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS}
        data["remaining"] = self.remaining
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Fault:
        """Build a rule from JSON (``POST /_sandbox/faults``); unknown keys are refused, not ignored."""
        if not isinstance(data, dict):
            raise FaultError("a fault must be a JSON object")
        # "remaining" is what GET /_sandbox/faults shows; accept it back so a listing can be re-posted.
        data = {k: v for k, v in data.items() if k != "remaining"}
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise FaultError(f"unknown fault field(s): {sorted(unknown)}")
        if "route" not in data or "kind" not in data:
            raise FaultError("a fault needs 'route' and 'kind'")
        return cls(**{str(k): v for k, v in data.items()})

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse the CLI form ``route:kind[:key=value,key=value]``.

        Example: ``invoice:rate_limit:count=3,retry_after=1``.
        """
        parts = spec.split(":", 2)
        if len(parts) < 2:
            raise FaultError(f"fault spec {spec!r} must look like route:kind[:key=value,...]")
        route, kind = parts[0].strip(), parts[1].strip()
        options: dict[str, Any] = {}
        if len(parts) == 3 and parts[2].strip():
            for item in parts[2].split(","):
                key, sep, raw = item.partition("=")
                key = key.strip()
                if not sep or key not in _CLI_OPTIONS:
                    raise FaultError(f"bad fault option {item!r} in {spec!r}")
                options[key] = _parse_number(
                    raw.strip(), integer=key in ("count", "status", "retry_after", "every")
                )
        return cls(route=route, kind=kind, **options)

    # -- matching ----------------------------------------------------------------------------------

    def _applies_to(self, route: str) -> bool:
        return self.route in ("*", route)

    def _skips(self) -> bool:
        """Count this arrival; True when an ``every`` rule lets it through."""
        if self.every is None:
            return False
        self._arrivals += 1
        return self._arrivals % self.every != 0

    def _over_rps(self, now: float) -> bool:
        """Count this arrival in the rule's one-second window; True when the limit is exceeded."""
        if now - self._window_start >= 1.0:
            self._window_start = now
            self._window_hits = 0
        self._window_hits += 1
        assert self.rps is not None
        return self._window_hits > self.rps


@dataclass(frozen=True)
class FaultAction:
    """What the server must do to one request: the outcome of matching the rules."""

    latency: float = 0.0
    kind: str | None = None  # a kind of KINDS but latency; None = handle normally
    status: int | None = None
    retry_after: int | None = None
    body: Any = None


class FaultSet:
    """Thread-safe ordered list of fault rules.

    Latency rules add up (they only slow the request down); among the other rules the first one that
    fires decides the outcome, and only that one is consumed. Exhausted rules are dropped, so the next
    rule in line takes over -- that is what "consumed in order" means.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def match(self, route: str, default_retry_after: int) -> FaultAction:
        """Decide the fate of one request arriving on ``route`` (and consume what fires)."""
        with self._lock:
            if not self._faults:
                return FaultAction()
            now = time.monotonic()
            latency = 0.0
            chosen: Fault | None = None
            for fault in self._faults:
                if not fault._applies_to(route) or fault._skips():
                    continue
                if fault.kind == "latency":
                    assert fault.latency is not None
                    latency += fault.latency
                    self._consume(fault)
                    continue
                if chosen is not None:
                    # rps windows must still see every arrival, even when another rule fired.
                    if fault.rps is not None:
                        fault._over_rps(now)
                    continue
                if fault.rps is not None:
                    if fault._over_rps(now):
                        chosen = fault
                        self._consume(fault)
                    continue
                chosen = fault
                self._consume(fault)
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        if chosen is None:
            return FaultAction(latency=latency)
        status = chosen.status
        if chosen.kind == "rate_limit":
            status = 429
        elif chosen.kind in ("status", "error_after_commit") and status is None:
            status = 500
        elif chosen.kind in ("html", "truncated") and status is None:
            status = 502
        elif chosen.kind == "echo_headers" and status is None:
            status = 400
        elif chosen.kind == "body" and status is None:
            status = 200
        retry_after = chosen.retry_after if chosen.retry_after is not None else default_retry_after
        return FaultAction(
            latency=latency, kind=chosen.kind, status=status, retry_after=retry_after, body=chosen.body
        )

    @staticmethod
    def _consume(fault: Fault) -> None:
        if fault.remaining is not None:
            fault.remaining -= 1


def _not_int(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_number(raw: str, *, integer: bool) -> int | float:
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        raise FaultError(f"{raw!r} is not a valid {'integer' if integer else 'number'}") from None
