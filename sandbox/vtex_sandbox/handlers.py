"""VTEX's side of a request: authentication, media type, permissions, then the OMS operation.

The server hands over a decoded :class:`Request` and gets an :class:`Answer` back; nothing here touches
a socket, so the order of VTEX's checks is readable in one place.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from vtex_sandbox.errors import (
    CODE_FORBIDDEN,
    CODE_INVALID_REQUEST,
    CODE_METHOD_NOT_ALLOWED,
    CODE_ROUTE_NOT_FOUND,
    CODE_UNAUTHORIZED,
    CODE_UNSUPPORTED_MEDIA,
    CODE_WRONG_ARCHITECTURE,
    SandboxError,
    error_body,
)
from vtex_sandbox.feed import parse_feed_config
from vtex_sandbox.feed.contract import evaluate_test, parse_handles, parse_max_lot
from vtex_sandbox.routes import (
    METHOD_RESOURCES,
    REFUND_RESOURCES,
    ROUTE_RESOURCES,
    MethodNotAllowed,
    Route,
    WrongArchitecture,
    wrong_architecture_message,
)
from vtex_sandbox.validation import pii, standard
from vtex_sandbox.views.deprecated import LEGACY_CHANGES_HEADERS, check_feed_v2_query, feed_v2_gone

if TYPE_CHECKING:
    from email.message import Message

    from vtex_sandbox.app import VtexSandbox
    from vtex_sandbox.faults import FaultAction

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass
class Request:
    """One HTTP request as the server read it (path already split into decoded segments)."""

    method: str
    raw_path: str
    segments: list[str]
    raw_query: str
    headers: Message
    body: bytes


@dataclass
class Answer:
    """What to send back; ``parsed_body`` is the request body as understood, for the request log."""

    status: int
    payload: Any
    content_type: str | None = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    parsed_body: Any = None

    def encoded(self) -> bytes:
        return self.payload if isinstance(self.payload, bytes) else json.dumps(self.payload).encode()


def answer_vtex(
    sandbox: VtexSandbox, request: Request, matched: Route | MethodNotAllowed | WrongArchitecture | None
) -> Answer:
    """Routing errors, then authentication, body, permission, and the operation -- in VTEX's order."""
    if matched is None:
        message = f"No such route: {request.method} {request.raw_path}"
        return Answer(404, error_body(CODE_ROUTE_NOT_FOUND, message))
    if isinstance(matched, MethodNotAllowed):
        allowed = ", ".join(matched.allowed)
        message = f"Method {request.method} not allowed on this route (allowed: {allowed})"
        return Answer(405, error_body(CODE_METHOD_NOT_ALLOWED, message), headers={"Allow": allowed})
    if isinstance(matched, WrongArchitecture):
        return Answer(404, error_body(CODE_WRONG_ARCHITECTURE, wrong_architecture_message(matched)))
    route = matched
    if not _authenticated(sandbox, request):
        return Answer(401, error_body(CODE_UNAUTHORIZED, "Unauthorized access"))
    try:
        body = _read_json(request, route.spec.body)
    except _BodyError as exc:
        return Answer(exc.status, error_body(exc.code, exc.message), parsed_body=exc.raw)
    resources = METHOD_RESOURCES.get((route.name, request.method), ROUTE_RESOURCES[route.name])
    if route.name == "invoice" and isinstance(body, dict) and body.get("type") == "Input":
        resources = REFUND_RESOURCES
    granted = sandbox.permissions
    if granted is not None and not any(r in granted for r in resources):
        message = f"Forbidden: the credentials lack the License Manager resource '{resources[0]}'"
        return Answer(403, error_body(CODE_FORBIDDEN, message), parsed_body=body)
    try:
        return _operate(sandbox, route, request, body)
    except SandboxError as exc:
        return Answer(exc.status, exc.body(), parsed_body=body)


def _authenticated(sandbox: VtexSandbox, request: Request) -> bool:
    key = request.headers.get("X-VTEX-API-AppKey") or ""
    token = request.headers.get("X-VTEX-API-AppToken") or ""
    # compare_digest: constant time, so the fake does not teach timing leaks.
    return hmac.compare_digest(key.encode(), sandbox.app_key.encode()) and hmac.compare_digest(
        token.encode(), sandbox.app_token.encode()
    )


class _BodyError(Exception):
    """A body the route cannot take (empty, not JSON, wrong media type); carries the answer to give."""

    def __init__(self, status: int, code: str, message: str, raw: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.raw = status, code, message, raw


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _read_json(request: Request, expected: str) -> Any:
    """The JSON body of a route that takes one (``required``/``optional``); ``None`` otherwise.

    Strict JSON: ``NaN`` and ``Infinity`` are refused. Python's json module accepts them, JSON does not:
    a client that sends them would be refused by VTEX.
    """
    if expected == "none" or (expected == "optional" and not request.body.strip()):
        return None
    text = request.body.decode("utf-8", "replace")
    if not request.body.strip():
        raise _BodyError(400, CODE_INVALID_REQUEST, "The request body is empty: send a JSON object")
    if request.headers.get_content_type() != "application/json":
        raise _BodyError(415, CODE_UNSUPPORTED_MEDIA, "Content-Type must be application/json", text or None)
    try:
        body = json.loads(request.body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BodyError(
            400, CODE_INVALID_REQUEST, f"The request body is not valid JSON ({exc})", text
        ) from None
    if expected == "optional" and not isinstance(body, dict):
        message = "The request body must be a JSON object, or be left out (this route's body is optional)"
        raise _BodyError(400, CODE_INVALID_REQUEST, message, body)
    return body


def _operate(sandbox: VtexSandbox, route: Route, request: Request, body: Any) -> Answer:
    """Run the OMS operation of a matched, authorised request."""
    book = sandbox.state
    query = parse_qs(request.raw_query, keep_blank_values=True)
    if route.name in _FEED_OPERATIONS:
        return _operate_feed(sandbox, route, request, body, query)
    if route.name in _ACCOUNT_OPERATIONS:
        return _operate_account(sandbox, route, request, body, query)
    if route.name == "list_orders":
        if sandbox.data_architecture == "pii":
            filters = pii.validate_list_filters(body)
            page, per_page = filters.get("page", 1), filters.get("per_page", 15)
            statuses = {s for s in str(filters.get("f_status", "")).split(",") if s}
            options = pii.list_options(filters)
        else:
            page, per_page, statuses = standard.validate_list_query(query)
            options = standard.list_options(query)
        return Answer(200, book.list_orders(page, per_page, statuses, **options), parsed_body=body)
    if route.name == "user_orders":
        page, per_page, statuses, email = standard.validate_user_orders_query(query)
        return Answer(200, book.list_orders(page, per_page, statuses, client_email=email), parsed_body=body)
    if route.name == "order_group":
        assert route.order_group is not None
        return Answer(200, book.order_group(route.order_group), parsed_body=body)
    if route.name == "feed_v2":
        check_feed_v2_query(query)
        return Answer(410, feed_v2_gone(), parsed_body=body)
    assert route.order_id is not None
    order_id = route.order_id
    if route.name == "user_order":
        standard.validate_user_orders_query(query)
    if route.name in ("get_order", "user_order"):
        unmasked = any(v.strip() for v in query.get("reason", []))
        return Answer(200, book.get_order(order_id, unmasked=unmasked), parsed_body=body)
    if route.name == "interactions":
        book.add_interaction(order_id, body)
        return Answer(200, b"", content_type=None, parsed_body=body)
    if route.name == "conversation":
        return Answer(200, book.conversation(order_id), parsed_body=body)
    if route.name == "payment_transaction":
        return Answer(200, book.payment_transaction(order_id), parsed_body=body)
    if route.name == "legacy_changes":
        answer = Answer(200, book.legacy_change(order_id, body), parsed_body=body)
        answer.headers.update(LEGACY_CHANGES_HEADERS)
        return answer
    if route.name == "invoice":
        return Answer(200, book.invoice(order_id, body), parsed_body=body)
    if route.name == "start_handling":
        book.start_handling(order_id)
        return Answer(204, b"", content_type=None, parsed_body=body)
    if route.name == "cancel":
        return Answer(200, book.cancel(order_id, body), parsed_body=body)
    if route.name == "payment_notification":
        assert route.payment_id is not None
        book.notify_payment(order_id, route.payment_id)
        return Answer(200, b"", content_type=None, parsed_body=body)
    assert route.invoice_number is not None
    if route.name == "tracking_number":
        return Answer(200, book.tracking_number(order_id, route.invoice_number, body), parsed_body=body)
    return Answer(200, book.tracking_status(order_id, route.invoice_number, body), parsed_body=body)


_FEED_OPERATIONS = frozenset({"feed", "feed_commit", "feed_config", "jsonata", "hook_config"})
_ACCOUNT_OPERATIONS = frozenset(
    {
        "change_create",
        "change_history",
        "change_preview",
        "change_detail",
        "change_retry",
        "change_cancel",
        "change_settings",
        "change_summary",
        "seller_window",
    }
)


def _operate_account(
    sandbox: VtexSandbox, route: Route, request: Request, body: Any, query: dict[str, list[str]]
) -> Answer:
    """Order modifications, the change summary and the seller window (both route sets serve them)."""
    book = sandbox.state
    if route.name == "seller_window":
        if request.method == "GET":
            return Answer(200, book.seller_window_days, parsed_body=body)
        book.update_seller_window(body)
        return Answer(201, b"", content_type=None, parsed_body=body)
    if route.name == "change_settings":
        if request.method == "GET":
            return Answer(200, book.settings(), parsed_body=body)
        return Answer(200, book.update_settings(body), parsed_body=body)
    assert route.order_id is not None
    order_id = route.order_id
    if route.name == "change_summary":
        return Answer(200, book.change_summary(order_id), parsed_body=body)
    if route.name == "change_create":
        return Answer(202, book.create_change(order_id, body), parsed_body=body)
    if route.name == "change_preview":
        return Answer(200, book.create_change(order_id, body, preview=True), parsed_body=body)
    if route.name == "change_history":
        return Answer(200, book.change_history(order_id), parsed_body=body)
    assert route.change_request_id is not None
    request_id = route.change_request_id
    if route.name == "change_detail":
        return Answer(200, book.change_detail(order_id, request_id), parsed_body=body)
    if route.name == "change_retry":
        book.retry_change(order_id, request_id, body)
        return Answer(204, b"", content_type=None, parsed_body=body)
    book.cancel_change(order_id, request_id, body)
    return Answer(200, b"", content_type=None, parsed_body=body)


def _operate_feed(
    sandbox: VtexSandbox, route: Route, request: Request, body: Any, query: dict[str, list[str]]
) -> Answer:
    """The order feed, keyed by the request's AppKey (already authenticated)."""
    feeds = sandbox.feeds
    app_key = request.headers.get("X-VTEX-API-AppKey") or ""
    if route.name == "jsonata":
        return Answer(200, evaluate_test(body), parsed_body=body)
    if route.name == "hook_config":
        return _operate_hook_config(sandbox, request, body, app_key)
    if route.name == "feed":
        return Answer(200, feeds.receive(app_key, parse_max_lot(query)), parsed_body=body)
    if route.name == "feed_commit":
        feeds.commit(app_key, parse_handles(body))
        return Answer(200, b"", content_type=None, parsed_body=body)
    if request.method == "GET":
        return Answer(200, feeds.settings_view(app_key), parsed_body=body)
    if request.method == "DELETE":
        feeds.delete(app_key)
    else:
        feeds.configure(app_key, parse_feed_config(body, sandbox.state.sample_document()))
    return Answer(200, b"", content_type=None, parsed_body=body)


def _operate_hook_config(sandbox: VtexSandbox, request: Request, body: Any, app_key: str) -> Answer:
    """The order hook's configuration (order_hook.py), keyed by the request's AppKey as the feed's."""
    if request.method == "GET":
        return Answer(200, sandbox.hooks.settings_view(app_key), parsed_body=body)
    if request.method == "DELETE":
        sandbox.hooks.delete(app_key)
    else:
        sandbox.hooks.configure(app_key, body, sandbox.state.sample_document())
    return Answer(200, b"", content_type=None, parsed_body=body)


def fault_answer(action: FaultAction, request: Request) -> Answer:
    """The answer of a fault that replaces VTEX's own (429, an error status, an HTML page, an echo)."""
    status = action.status or 500
    if action.kind == "rate_limit":
        body = error_body("429", "Too Many Requests: the request limit for this route was exceeded")
        return Answer(429, body, headers={"Retry-After": str(action.retry_after or 0)})
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if action.kind == "html":
        page = (
            f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head>"
            f"<body><h1>{status} {phrase}</h1><p>vtex-sandbox: injected HTML error page</p>"
            "</body></html>"
        )
        return Answer(status, page.encode(), content_type="text/html; charset=utf-8")
    if action.kind == "body":
        return Answer(status, json.dumps(action.body).encode())
    if action.kind == "echo_headers":
        # Deliberately unredacted: the client under test must scrub it (the request log still does).
        quoted = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
        return Answer(
            status, error_body(str(status), f"{phrase}: could not process the request with headers {quoted}")
        )
    return Answer(status, error_body(str(status), f"{phrase} (vtex-sandbox injected fault)"))
