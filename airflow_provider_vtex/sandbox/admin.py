"""``/_sandbox/...``: inspect and steer the sandbox over HTTP (unauthenticated: it is a local fake).

Not part of VTEX: errors here use the code ``SANDBOX`` so nobody mistakes them for OMS answers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.sandbox.errors import CODE_ORDER_NOT_FOUND, CODE_SANDBOX, error_body
from airflow_provider_vtex.sandbox.faults import Fault, FaultError
from airflow_provider_vtex.sandbox.handlers import Answer

if TYPE_CHECKING:
    from airflow_provider_vtex.sandbox.app import VtexSandbox


def answer_admin(sandbox: VtexSandbox, method: str, segments: list[str], raw_body: bytes) -> Answer:
    target = "/".join(segments)
    try:
        body: Any = json.loads(raw_body) if raw_body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return Answer(400, error_body(CODE_SANDBOX, "Admin request body is not valid JSON"))
    try:
        return _route(sandbox, method, segments, target, body)
    except (ValueError, TypeError, FaultError) as exc:
        return Answer(400, error_body(CODE_SANDBOX, str(exc)))


def _route(sandbox: VtexSandbox, method: str, segments: list[str], target: str, body: Any) -> Answer:
    if (method, target) == ("GET", "health"):
        return Answer(200, {"status": "ok", "orders": len(sandbox.state.order_ids())})
    if (method, target) == ("GET", "requests"):
        return Answer(200, {"requests": sandbox.requests})
    if (method, target) == ("DELETE", "requests"):
        sandbox.log.clear()
        return Answer(200, {"status": "cleared"})
    if (method, target) == ("POST", "reset"):
        sandbox.reset()
        return Answer(200, {"status": "reset"})
    if (method, target) == ("GET", "orders"):
        return Answer(200, sandbox.summary())
    if (method, target) == ("POST", "orders"):
        if not isinstance(body, dict):
            raise ValueError("body must be an order object: {orderId, items, status?, value?}")
        return Answer(201, sandbox.state.add_order(body))
    if method == "GET" and len(segments) == 2 and segments[0] == "orders":
        try:
            return Answer(
                200, {"order": sandbox.order(segments[1]), "invoices": sandbox.invoices(segments[1])}
            )
        except KeyError:
            return Answer(404, error_body(CODE_ORDER_NOT_FOUND, "Order Not Found"))
    if (method, target) == ("GET", "stats"):
        return Answer(200, sandbox.stats())
    if (method, target) == ("GET", "faults"):
        return Answer(200, {"faults": sandbox.faults.list()})
    if (method, target) == ("POST", "faults"):
        return Answer(201, sandbox.add_fault(Fault.from_dict(body)).to_dict())
    if (method, target) == ("DELETE", "faults"):
        sandbox.clear_faults()
        return Answer(200, {"status": "cleared"})
    return Answer(404, error_body(CODE_SANDBOX, f"No such admin route: {method} /_sandbox/{target}"))
