"""Requests-level fakes: replace only the socket I/O of ``requests``; the hook's session, headers, URL
building and JSON encoding all run for real."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError


def response(
    status: int = 200,
    body: Any = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    reason: str = "",
) -> requests.Response:
    """A ``requests.Response`` as the adapter would build it from the wire."""
    resp = requests.Response()
    resp.status_code = status
    resp.reason = reason
    if text is not None:
        resp._content = text.encode()
        resp.headers["Content-Type"] = "text/html; charset=utf-8"
    elif body is not None:
        resp._content = json.dumps(body).encode()
        resp.headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        resp._content = b""
    resp.headers.update(headers or {})
    return resp


def receipt(order_id: str = "o1") -> dict[str, str]:
    return {
        "date": "2024-02-07T15:22:56.7612218-02:00",
        "orderId": order_id,
        "receipt": "38e0e47da2934847b489216d208cfd91",
    }


def vtex_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "exception": None}}


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the request was never sent."""
    cause = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", cause))  # type: ignore[arg-type]


def dropped() -> requests.exceptions.ConnectionError:
    """What requests raises when the server closes the connection after reading the request."""
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    )


@dataclass
class FakeVtex:
    """Scripted answers, in order; records every prepared request the hook sent."""

    script: list[Any] = field(default_factory=list)
    sent: list[requests.PreparedRequest] = field(default_factory=list)
    timeouts: list[Any] = field(default_factory=list)

    def send(
        self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, BaseException):
            raise outcome
        outcome.request = request
        outcome.url = request.url or ""
        return outcome

    def bodies(self) -> list[Any]:
        return [json.loads(r.body) if r.body else None for r in self.sent]
