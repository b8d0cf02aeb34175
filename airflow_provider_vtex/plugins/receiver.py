"""The order hook's receiver: a FastAPI app in Airflow 3's API server that VTEX POSTs order changes to.

Importing it needs FastAPI (Airflow 3 brings it); ``plugin.py`` imports it only on Airflow 3.

Mounted by :class:`~airflow_provider_vtex.plugins.plugin.VtexPlugin` at ``/vtex/order-hook``; VTEX's hook
URL is ``https://<api-server>/vtex/order-hook/<conn_id>`` (the ``vtex`` connection whose AppKey
registered the hook). Airflow 3 only: plugins' ``fastapi_apps`` exist from 3.0.

**Every call proves itself.** Plugin apps are not behind Airflow's authentication, and VTEX signs
nothing, so a call is refused (nothing stored, an answer without detail, a log line without the secret)
unless, in this order:

1. it stays under the connection's rate (:data:`RATE_PER_SECOND`, burst :data:`BURST`): a flood costs a
   dictionary lookup, not a database query (429, VTEX retries later);
2. its body is at most :data:`MAX_BODY_BYTES` bytes, read in chunks so a longer one is never held (413);
3. it carries :data:`~airflow_provider_vtex.models.order_hook.SECRET_HEADER` equal to the connection's
   ``hook_secret`` extra, compared in constant time (``hmac.compare_digest``) (401, also for an unknown
   connection, so the answer does not say which connections exist);
4. its body is JSON nested at most :data:`MAX_DEPTH` deep, checked before parsing (400);
5. it is VTEX's ping (answered 200), or a notification whose ``Origin`` names the connection's account
   and AppKey (403 otherwise: another store's hook, or a secret that leaked to another integration), or
   a feed item the feed trigger hands over (``VtexOrderFeedTrigger(via_receiver=True)``: a body with
   ``FeedItem`` and the same ``Origin``, proved by the same secret), so both ways dedup in one place.

**200 only once stored.** A notification is stored as asset events (``plugins/order_events.py``) and
committed before the 200; any failure answers 503 so VTEX retries with its growing delays (and the feed,
if it runs as backup, catches up meanwhile). A duplicate or a replay finds its change stored and is
answered 200 without a second event: harmless.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

# At run time, not only for typing: FastAPI reads the endpoint's annotations to pass the Request.
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from airflow_provider_vtex.exceptions import VtexError
from airflow_provider_vtex.models.order_hook import (
    PING_BODY,
    RECEIVER_PATH,
    SECRET_HEADER,
    FeedHandover,
    HookNotification,
    normal_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_vtex.client.config import VtexConnectionConfig

log = logging.getLogger(__name__)

#: Where the plugin mounts the app in the API server.
URL_PREFIX = RECEIVER_PATH
#: A notification is about 300 bytes; 8 KiB leaves room for fields VTEX may add, and no more.
MAX_BODY_BYTES = 8 * 1024
#: A notification nests 2 deep (``Origin``); 8 leaves room, and keeps parsing cheap.
MAX_DEPTH = 8
#: Calls per second per connection (sustained), and the burst allowed above it: a sale's peak is tens of
#: changes a second; a flood is refused before it reaches the database.
RATE_PER_SECOND = 100.0
BURST = 300.0
#: For this many seconds after the receiver starts, a change made before its start is answered 503 (the
#: caller, VTEX or the feed trigger, tries again later). While the API server was down, the feed trigger
#: (``via_receiver``) stored such changes itself, and the triggerer may not have committed the last of
#: them yet: storing the hook's copy now could store the change twice; a few seconds later it finds the
#: feed's event.
STARTUP_GRACE = 15.0
#: Airflow connection ids: letters, digits, ``_``, ``-``, ``.`` (anything else is refused unread).
_CONN_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")


class TokenBuckets:
    """One token bucket per connection: ``rate`` calls a second sustained, ``burst`` at once."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed


def json_depth_within(raw: bytes, limit: int) -> bool:
    """Whether the JSON text nests objects/arrays at most ``limit`` deep (brackets inside strings don't
    count). Checked before ``json.loads``, whose recursion a deeply nested body could exhaust."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return True


class Refused(Exception):
    """A check failed: ``status`` is answered, ``reason`` only logged (never the secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def connection_config(conn_id: str) -> VtexConnectionConfig | None:
    """The connection's checked settings, or ``None`` when it does not exist or cannot be used."""
    from airflow_provider_vtex.hooks.vtex import VtexHook

    try:
        return VtexHook(vtex_conn_id=conn_id).config
    except VtexError as exc:
        log.warning(
            "Order hook call for connection %r refused: the connection cannot be used (%s).", conn_id, exc
        )
        return None


def check_secret(config: VtexConnectionConfig | None, given: str | None) -> VtexConnectionConfig:
    if config is None:
        raise Refused(401, "unknown or unusable connection")
    if config.hook_secret is None:
        raise Refused(401, "the connection has no 'hook_secret' extra")
    if given is None or not hmac.compare_digest(given.encode(), config.hook_secret.encode()):
        raise Refused(401, "missing or wrong secret header")
    return config


def parse_body(raw: bytes) -> Any:
    if not json_depth_within(raw, MAX_DEPTH):
        raise Refused(400, f"JSON nested deeper than {MAX_DEPTH}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "body is not JSON") from None


def check_origin(config: VtexConnectionConfig, body: Any) -> HookNotification | FeedHandover:
    """A hook notification, or a feed item handed over by the feed trigger (a body with ``FeedItem``),
    whose ``Origin`` is the connection's account and AppKey."""
    shape: type[HookNotification | FeedHandover] = (
        FeedHandover if isinstance(body, dict) and "FeedItem" in body else HookNotification
    )
    try:
        notification = shape.model_validate(body)
    except ValidationError:
        raise Refused(
            400, f"body is not {'a feed item' if shape is FeedHandover else 'an order hook notification'}"
        ) from None
    origin = notification.origin
    if config.account is None or origin.account.lower() != config.account.lower():
        raise Refused(403, f"Origin.Account {origin.account!r} is not the connection's account")
    if not hmac.compare_digest(origin.key.encode(), config.app_key.encode()):
        raise Refused(403, "Origin.Key is not the connection's AppKey")
    return notification


def handle(conn_id: str, secret: str | None, raw: bytes, hold_before: float | None = None) -> tuple[int, str]:
    """Check and store one call (blocking: runs in a worker thread); the status and a short word.

    ``hold_before``: a change made before this moment (epoch seconds) is answered 503, not stored (see
    :data:`STARTUP_GRACE`)."""
    from airflow_provider_vtex.plugins.order_events import NoWatchingAsset, store_order_change

    config = check_secret(connection_config(conn_id), secret)
    body = parse_body(raw)
    if body == PING_BODY:
        log.info("Order hook ping for connection %r answered.", conn_id)
        return 200, "pong"
    notification = check_origin(config, body)
    # the connection, as the feed trigger's events carry it (several accounts feeding one DAG)
    payload = {"vtex_conn_id": conn_id, **notification.to_event_payload()}
    if hold_before is not None and _changed_before(payload, hold_before):
        log.info(
            "Order %s of order %s held off (503): the change predates this API server's start, and the "
            "feed trigger may still be storing it from the outage; the caller tries again later.",
            "feed item" if isinstance(notification, FeedHandover) else "hook change",
            notification.order_id,
        )
        return 503, "not stored"
    try:
        stored = store_order_change(conn_id, notification.origin.account, payload)
    except NoWatchingAsset:
        log.warning(
            "Order hook change of order %s for connection %r not stored: no asset is watched by a "
            "VtexOrderHookTrigger or VtexOrderFeedTrigger for it (deploy or unpause the DAG); VTEX retries.",
            notification.order_id,
            conn_id,
        )
        return 503, "not stored"
    log.info(
        "Order %s change stored: order %s, state %s, %s.",
        "feed" if isinstance(notification, FeedHandover) else "hook",
        notification.order_id,
        notification.state,
        f"{stored} asset event(s)" if stored else "none new (a duplicate, or no watcher wants it)",
    )
    return 200, "stored" if stored else "unchanged"


def _changed_before(payload: dict[str, Any], moment: float) -> bool:
    changed = payload.get("current_change")
    try:
        return dt.datetime.fromisoformat(normal_time(str(changed))).timestamp() < moment
    except ValueError:
        return False


async def read_bounded(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it passes ``limit`` bytes (never reading much further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    from starlette.requests import ClientDisconnect

    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:  # VTEX gave up waiting (its 5 s): nothing to answer, nothing stored
        raise Refused(400, "the caller disconnected before its body was read") from None
    return b"".join(chunks)


def create_app(buckets: TokenBuckets | None = None, startup_grace: float = STARTUP_GRACE) -> FastAPI:
    """The receiver app (a new one per call: tests build their own with their own rate and grace)."""
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    limiter = buckets or TokenBuckets(RATE_PER_SECOND, BURST)
    started_at, started = time.time(), time.monotonic()

    def hold_before() -> float | None:
        return started_at if time.monotonic() - started < startup_grace else None

    app = FastAPI(title="VTEX order hook receiver", docs_url=None, redoc_url=None, openapi_url=None)

    def answer(status: int, word: str) -> Response:
        return JSONResponse({"status": word}, status_code=status)

    @app.post("/{conn_id}")
    async def receive(conn_id: str, request: Request) -> Response:
        if not _CONN_ID.fullmatch(conn_id):
            return answer(404, "refused")
        if not limiter.allow(conn_id):
            log.warning("Order hook call for connection %r refused: over the rate limit.", conn_id)
            response = answer(429, "refused")
            response.headers["Retry-After"] = "1"
            return response
        try:
            raw = await read_bounded(request, MAX_BODY_BYTES)
        except Refused as refused:
            log.warning("Order hook call for connection %r refused: %s.", conn_id, refused.reason)
            return answer(refused.status, "refused")
        if raw is None:
            log.warning(
                "Order hook call for connection %r refused: body over %d bytes.", conn_id, MAX_BODY_BYTES
            )
            return answer(413, "refused")
        try:
            status, word = await run_in_threadpool(
                handle, conn_id, request.headers.get(SECRET_HEADER), raw, hold_before()
            )
        except Refused as refused:
            log.warning("Order hook call for connection %r refused: %s.", conn_id, refused.reason)
            return answer(refused.status, "refused")
        except Exception:  # the store failed (database down...): VTEX must retry
            log.exception(
                "Order hook call for connection %r not stored; answering 503 so VTEX retries.", conn_id
            )
            return answer(503, "not stored")
        return answer(status, word)

    return app
