"""VTEX's order hook, played by the sandbox: one configuration per AppKey, and a POST to its URL for
every order change that passes its filter.

What VTEX does, and so the sandbox (VTEX's "Orders feed" guide, hook section; its OpenAPI file):

* ``POST /api/orders/hook/config`` takes ``{"filter": {...as the feed's...}, "hook": {"url": ..., "headers":
  {...}}}``; before saving, VTEX POSTs ``{"hookConfig": "ping"}`` to the URL with those headers and refuses
  the configuration (400 here) unless it answers 200. GET answers the configuration, DELETE removes it.
* Each matching change is POSTed as ``{"Domain", "OrderId", "State", "LastState", "LastChange",
  "CurrentChange", "Origin": {"Account", "Key"}}`` with the headers (the fields of VTEX's OpenAPI file,
  ``HookConfiguration``; its guide names fewer, and the provider reads either). Anything but a 200 within :data:`TIMEOUT_SECONDS` is a failure, retried after
  growing delays (:data:`RETRY_DELAYS`), then given up (counted in :meth:`HookHub.stats`).
* VTEX may deliver twice: :attr:`HookHub.duplicate_every` = N delivers every Nth notification twice.
* A hook that sent no notification for 3 days (:data:`IDLE_SECONDS`) is deleted; the sandbox's clock
  (``VtexSandbox.advance_clock``) lets a test see that at once.

Deliveries run on :attr:`HookHub.workers` daemon threads (VTEX sends in parallel); the order book calls
:meth:`HookHub.publish` under its lock, which only queues work, so no HTTP call ever holds that lock.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vtex_sandbox.errors import SandboxError, bad_request
from vtex_sandbox.feed.config import parse_filter
from vtex_sandbox.feed.hub import Feed, document_of
from vtex_sandbox.feed.queue import EventQueue

if TYPE_CHECKING:
    from vtex_sandbox.clock import SandboxClock
    from vtex_sandbox.feed.config import FeedFilter
    from vtex_sandbox.model import OrderChange

#: VTEX waits this long for the receiver's 200.
TIMEOUT_SECONDS = 5.0
#: Seconds before each retry of a failed delivery ("growing delays"); then the delivery is given up.
RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
#: A hook with no notification for this long is deleted (3 days).
IDLE_SECONDS = 3 * 24 * 3600
_ROOT_FIELDS = ("filter", "hook")
_HOOK_FIELDS = ("url", "headers")


def hook_not_configured() -> SandboxError:
    return SandboxError(
        404,
        "OMS404",
        "Value not found: there is no Hook Configuration for the given X-VTEX-API-AppKey (VTEX deletes a hook "
        "that sent no notification for 3 days). Create one with POST /api/orders/hook/config",
    )


@dataclass
class Hook:
    """One AppKey's hook: the filter (matched by the feed's own code), the target, and its counters."""

    matcher: Feed
    filter: FeedFilter
    url: str
    headers: dict[str, str]
    last_sent: float
    counters: dict[str, int] = field(
        default_factory=lambda: {
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "retried": 0,
            "givenUp": 0,
            "duplicated": 0,
        }
    )

    def view(self) -> dict[str, Any]:
        return {"filter": self.filter.view(), "hook": {"url": self.url, "headers": dict(self.headers)}}


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    app_key: str = field(compare=False)
    body: dict[str, Any] = field(compare=False)
    attempt: int = field(default=0, compare=False)


def parse_hook_config(body: Any, sample_order: dict[str, Any]) -> tuple[FeedFilter, str, dict[str, str]]:
    """Check a configuration body: the filter as the feed's, an http(s) URL, string headers."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object: {'filter': {...}, 'hook': {'url': ...}}")
    for key in body:
        if key not in _ROOT_FIELDS:
            raise bad_request(f"{key} is not a field of a hook configuration; the fields are: filter, hook")
    if "filter" not in body or "hook" not in body:
        raise bad_request("filter and hook are required: {'filter': {...}, 'hook': {'url': 'https://...'}}")
    feed_filter = parse_filter(body["filter"], sample_order)
    hook = body["hook"]
    if not isinstance(hook, dict) or any(key not in _HOOK_FIELDS for key in hook):
        raise bad_request("hook must be an object with url and, optionally, headers")
    url = hook.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise bad_request(f"hook.url must be an http(s) address, not {url!r}")
    headers = hook.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise bad_request("hook.headers must be an object of header names to string values")
    return feed_filter, url, dict(headers)


def post(url: str, headers: dict[str, str], body: dict[str, Any], timeout: float) -> int:
    """POST ``body`` as JSON; the status, or 0 when no answer came (refused, reset, timed out)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={**headers, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return 0


class HookHub:
    """Every AppKey's order hook, and the threads that deliver its notifications."""

    def __init__(self, clock: SandboxClock, account: str = "sandbox", workers: int = 4) -> None:
        self._clock = clock
        self.account = account
        self.workers = workers
        #: Deliver every Nth notification twice (0: never), as VTEX may.
        self.duplicate_every = 0
        #: Seconds before each retry (tests shorten them).
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self._hooks: dict[str, Hook] = {}
        self._pending: list[_Delivery] = []
        self._seq = itertools.count()
        self._published = 0
        self._deleted_idle = 0
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopped = False

    # -- configuration (GET/POST/DELETE /api/orders/hook/config) -----------------------------------

    def configure(self, app_key: str, body: Any, sample_order: dict[str, Any]) -> None:
        """Ping the URL with the headers, then save; a ping answered other than 200 refuses it (400)."""
        feed_filter, url, headers = parse_hook_config(body, sample_order)
        status = post(url, headers, {"hookConfig": "ping"}, TIMEOUT_SECONDS)
        if status != 200:
            raise bad_request(
                f"The hook was not saved: its URL answered the ping ({{'hookConfig': 'ping'}}) with "
                f"{status or 'no answer'}, and VTEX saves a hook only when the ping gets a 200"
            )
        matcher = Feed(_settings_of(feed_filter), EventQueue(1, 60))
        with self._cond:
            self._hooks[app_key] = Hook(matcher, feed_filter, url, headers, last_sent=self._clock.now())
            self._start_workers()

    def settings_view(self, app_key: str) -> dict[str, Any]:
        with self._cond:
            return self._hook(app_key).view()

    def delete(self, app_key: str) -> None:
        with self._cond:
            self._hook(app_key)
            del self._hooks[app_key]

    # -- the order book's side ---------------------------------------------------------------------

    def publish(self, change: OrderChange) -> None:
        """Queue a notification to every hook whose filter takes the change (no HTTP here)."""
        with self._cond:
            self._delete_idle()
            if not self._hooks:
                return
            document = document_of(change)
            now = self._clock.now()
            for app_key, hook in self._hooks.items():
                if not hook.matcher.wants(change, document):
                    continue
                body = {
                    "Domain": "Fulfillment",
                    "OrderId": change.order_id,
                    "State": change.state,
                    "LastState": change.last_state,
                    "LastChange": change.last_change,
                    "CurrentChange": change.current_change,
                    "Origin": {"Account": self.account, "Key": app_key},
                }
                self._published += 1
                copies = 2 if self.duplicate_every and self._published % self.duplicate_every == 0 else 1
                hook.counters["duplicated"] += copies - 1
                for _ in range(copies):
                    heapq.heappush(self._pending, _Delivery(now, next(self._seq), app_key, body))
            self._cond.notify_all()

    # -- time --------------------------------------------------------------------------------------

    def tick(self) -> None:
        """The clock moved (``advance_clock``): delete idle hooks, wake the retries that are now due."""
        with self._cond:
            self._delete_idle()
            self._cond.notify_all()

    def _delete_idle(self) -> None:
        now = self._clock.now()
        for app_key in [key for key, hook in self._hooks.items() if now - hook.last_sent >= IDLE_SECONDS]:
            del self._hooks[app_key]
            self._deleted_idle += 1

    # -- delivery ----------------------------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(
                target=self._work, name=f"vtex-sandbox-hook-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _next(self) -> _Delivery | None:
        with self._cond:
            while not self._stopped:
                now = self._clock.now()
                if self._pending and self._pending[0].due <= now:
                    return heapq.heappop(self._pending)
                wait = self._pending[0].due - now if self._pending else None
                self._cond.wait(timeout=wait if wait is None else min(wait, 1.0))
            return None

    def _work(self) -> None:
        while (delivery := self._next()) is not None:
            with self._cond:
                hook = self._hooks.get(delivery.app_key)
                if hook is None:  # deleted since: VTEX sends nothing more
                    continue
                url, headers = hook.url, dict(hook.headers)
                hook.last_sent = self._clock.now()
                hook.counters["sent"] += 1
            status = post(url, headers, delivery.body, TIMEOUT_SECONDS)
            with self._cond:
                if status == 200:
                    hook.counters["delivered"] += 1
                    continue
                hook.counters["failed"] += 1
                if delivery.attempt >= len(self.retry_delays):
                    hook.counters["givenUp"] += 1
                    continue
                hook.counters["retried"] += 1
                delivery.due = self._clock.now() + self.retry_delays[delivery.attempt]
                delivery.attempt += 1
                delivery.seq = next(self._seq)
                heapq.heappush(self._pending, delivery)
                self._cond.notify_all()

    def idle(self) -> bool:
        """Whether no delivery is waiting (a retry included) or running: for tests to wait on."""
        with self._cond:
            return not self._pending and all(
                hook.counters["sent"] == hook.counters["delivered"] + hook.counters["failed"]
                for hook in self._hooks.values()
            )

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "hooks": {key: {"url": hook.url, **hook.counters} for key, hook in self._hooks.items()},
                "pending": len(self._pending),
                "deletedIdle": self._deleted_idle,
            }

    def clear(self) -> None:
        with self._cond:
            self._hooks.clear()
            self._pending.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=TIMEOUT_SECONDS + 1)
        self._threads = []
        self._stopped = False

    def _hook(self, app_key: str) -> Hook:
        self._delete_idle()
        hook = self._hooks.get(app_key)
        if hook is None:
            raise hook_not_configured()
        return hook


def _settings_of(feed_filter: FeedFilter) -> Any:
    from vtex_sandbox.feed.config import FeedSettings

    return FeedSettings(feed_filter, 1, 60)
