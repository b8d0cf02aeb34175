"""``/_sandbox/...``: inspect and steer the sandbox over HTTP (unauthenticated: it is a local fake).

Not part of VTEX: errors here use the code ``SANDBOX`` so nobody mistakes them for OMS answers.

Routes: ``GET health``, ``GET|DELETE requests``, ``POST reset``, ``GET stats``, ``GET|POST|DELETE faults``;
the store's day: ``GET|POST orders`` (a placed order starts in ``payment-pending`` unless its ``status``
says otherwise), ``GET orders/{id}`` (with its timeline), ``POST orders/{id}/status`` (a workflow move:
``{"status": "payment-approved"}``, ``reason`` for a cancel), ``GET timeline``, ``POST|GET|DELETE
simulate`` (``GET simulate?wait=SECONDS`` waits for the day to end); the feed: ``GET feeds`` (per AppKey)
and ``POST clock`` (``{"advance": SECONDS}`` lets the feed's timers run).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from vtex_sandbox.errors import CODE_ORDER_NOT_FOUND, CODE_SANDBOX, error_body
from vtex_sandbox.faults import Fault, FaultError
from vtex_sandbox.handlers import Answer
from vtex_sandbox.simulation import DayPlan, SimulationRunning
from vtex_sandbox.workflow import DEFAULT_PLACEMENT_STATUS, MoveRefused

if TYPE_CHECKING:
    from vtex_sandbox.app import VtexSandbox

#: The longest ``GET /_sandbox/simulate?wait=`` blocks (a client's own timeout should end it first).
MAX_WAIT_SECONDS = 600.0


def answer_admin(
    sandbox: VtexSandbox, method: str, segments: list[str], raw_body: bytes, raw_query: str = ""
) -> Answer:
    target = "/".join(segments)
    try:
        body: Any = json.loads(raw_body) if raw_body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return Answer(400, error_body(CODE_SANDBOX, "Admin request body is not valid JSON"))
    query = parse_qs(raw_query, keep_blank_values=True)
    try:
        return _route(sandbox, method, segments, target, body, query)
    except (MoveRefused, SimulationRunning) as exc:
        return Answer(409, error_body(CODE_SANDBOX, str(exc)))
    except (ValueError, TypeError, FaultError) as exc:
        return Answer(400, error_body(CODE_SANDBOX, str(exc)))


def _route(
    sandbox: VtexSandbox,
    method: str,
    segments: list[str],
    target: str,
    body: Any,
    query: dict[str, list[str]],
) -> Answer:
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
    if segments and segments[0] in ("orders", "timeline"):
        try:
            return _orders(sandbox, method, segments, body)
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
    if target == "simulate" and method in ("GET", "POST", "DELETE"):
        return _simulate(sandbox, method, body, query)
    if (method, target) == ("GET", "feeds"):
        return Answer(200, {"feeds": sandbox.feeds.stats()})
    if (method, target) == ("POST", "clock"):
        if not isinstance(body, dict) or set(body) != {"advance"}:
            raise ValueError('the clock takes {"advance": SECONDS}: how far to move the feed\'s timers')
        sandbox.advance_clock(body["advance"])
        return Answer(200, {"advanced": body["advance"]})
    return _no_such_route(method, target)


def _orders(sandbox: VtexSandbox, method: str, segments: list[str], body: Any) -> Answer:
    """Placing, reading and moving orders, and their timelines."""
    target = "/".join(segments)
    if (method, target) == ("GET", "timeline"):
        return Answer(200, {"orders": sandbox.timeline()})
    if (method, target) == ("GET", "orders"):
        return Answer(200, sandbox.summary())
    if (method, target) == ("POST", "orders"):
        if not isinstance(body, dict):
            raise ValueError("body must be an order object: {orderId, items, status?, value?}")
        return Answer(201, sandbox.state.add_order({"status": DEFAULT_PLACEMENT_STATUS, **body}))
    if method == "GET" and len(segments) == 2 and segments[0] == "orders":
        order_id = segments[1]
        return Answer(
            200,
            {
                "order": sandbox.order(order_id),
                "invoices": sandbox.invoices(order_id),
                "timeline": sandbox.timeline(order_id),
            },
        )
    if method == "POST" and len(segments) == 3 and segments[0] == "orders" and segments[2] == "status":
        if not isinstance(body, dict) or not set(body) <= {"status", "reason"} or "status" not in body:
            raise ValueError('a move takes {"status": "<target status>"} and, for a cancel, "reason"')
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ValueError("reason must be a string")
        return Answer(200, sandbox.move_order(segments[1], body["status"], reason))
    return _no_such_route(method, target)


def _simulate(sandbox: VtexSandbox, method: str, body: Any, query: dict[str, list[str]]) -> Answer:
    if method == "POST":
        return Answer(202, sandbox.start_simulation(DayPlan.parse(body)).progress())
    simulation = sandbox.simulation
    if simulation is None:
        return Answer(
            404, error_body(CODE_SANDBOX, "No simulation yet: start one with POST /_sandbox/simulate")
        )
    if method == "DELETE":
        simulation.cancel()
    elif "wait" in query:
        simulation.wait(_wait_seconds(query["wait"]))
    return Answer(200, simulation.progress())


def _wait_seconds(values: list[str]) -> float:
    try:
        seconds = float(values[-1])
    except ValueError:
        raise ValueError(f"wait must be a number of seconds, not {values[-1]!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"wait must be a number of seconds >= 0, not {values[-1]!r}")
    return min(seconds, MAX_WAIT_SECONDS)


def _no_such_route(method: str, target: str) -> Answer:
    return Answer(404, error_body(CODE_SANDBOX, f"No such admin route: {method} /_sandbox/{target}"))
