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

from airflow_provider_vtex.sandbox.errors import (
    CODE_FORBIDDEN,
    CODE_INVALID_REQUEST,
    CODE_METHOD_NOT_ALLOWED,
    CODE_ROUTE_NOT_FOUND,
    CODE_UNAUTHORIZED,
    CODE_UNSUPPORTED_MEDIA,
    SandboxError,
    error_body,
)
from airflow_provider_vtex.sandbox.routes import REFUND_RESOURCES, ROUTE_RESOURCES, MethodNotAllowed, Route

if TYPE_CHECKING:
    from email.message import Message

    from airflow_provider_vtex.sandbox.app import VtexSandbox
    from airflow_provider_vtex.sandbox.faults import FaultAction

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


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
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    parsed_body: Any = None

    def encoded(self) -> bytes:
        return self.payload if isinstance(self.payload, bytes) else json.dumps(self.payload).encode()


def answer_vtex(sandbox: VtexSandbox, request: Request, matched: Route | MethodNotAllowed | None) -> Answer:
    """Auth, media type, permission, then the operation."""
    if not isinstance(matched, Route):
        if isinstance(matched, MethodNotAllowed):
            message = f"Method {request.method} not allowed on this route"
            return Answer(405, error_body(CODE_METHOD_NOT_ALLOWED, message))
        message = f"No such route: {request.method} {request.raw_path}"
        return Answer(404, error_body(CODE_ROUTE_NOT_FOUND, message))
    route = matched
    key = request.headers.get("X-VTEX-API-AppKey") or ""
    token = request.headers.get("X-VTEX-API-AppToken") or ""
    # compare_digest: constant time, so the fake does not teach timing leaks.
    if not (
        hmac.compare_digest(key.encode(), sandbox.app_key.encode())
        and hmac.compare_digest(token.encode(), sandbox.app_token.encode())
    ):
        return Answer(401, error_body(CODE_UNAUTHORIZED, "Unauthorized access"))
    body: Any = None
    if request.method in _WRITE_METHODS:
        if not request.body.strip():
            return Answer(
                400, error_body(CODE_INVALID_REQUEST, "The request body is empty: send a JSON object")
            )
        if request.headers.get_content_type() != "application/json":
            return Answer(
                415,
                error_body(CODE_UNSUPPORTED_MEDIA, "Content-Type must be application/json"),
                parsed_body=request.body.decode("utf-8", "replace") or None,
            )
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return Answer(
                400,
                error_body(CODE_INVALID_REQUEST, "The request body is not valid JSON"),
                parsed_body=request.body.decode("utf-8", "replace"),
            )
    resources = ROUTE_RESOURCES[route.name]
    if route.name == "invoice" and isinstance(body, dict) and body.get("type") == "Input":
        resources = REFUND_RESOURCES
    granted = sandbox.permissions
    if granted is not None and not any(r in granted for r in resources):
        message = f"Forbidden: the credentials lack the License Manager resource '{resources[0]}'"
        return Answer(403, error_body(CODE_FORBIDDEN, message), parsed_body=body)
    state = sandbox.state
    try:
        if route.name == "list_orders":
            return Answer(200, state.list_orders(parse_qs(request.raw_query)), parsed_body=body)
        assert route.order_id is not None
        if route.name == "get_order":
            return Answer(200, state.get_order(route.order_id), parsed_body=body)
        if route.name == "invoice":
            return Answer(200, state.invoice(route.order_id, body), parsed_body=body)
        assert route.invoice_number is not None
        if route.name == "tracking_number":
            answer = state.tracking_number(route.order_id, route.invoice_number, body)
            return Answer(200, answer, parsed_body=body)
        answer = state.tracking_status(route.order_id, route.invoice_number, body)
        return Answer(200, answer, parsed_body=body)
    except SandboxError as exc:
        return Answer(exc.status, exc.body(), parsed_body=body)


def fault_answer(action: FaultAction) -> Answer:
    """The answer of a fault that replaces VTEX's own (429, an error status, an HTML page)."""
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
    return Answer(status, error_body(str(status), f"{phrase} (vtex-sandbox injected fault)"))
