"""The route table: which VTEX operations the sandbox serves, by method and path template.

A route name (``invoice``, ``get_order``...) names the VTEX operation, not the URL, so fault rules and
the request log keep working whatever order id or invoice number a client uses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RouteSpec:
    """One VTEX operation: its sandbox name, HTTP method and path template (``{name}`` = a segment)."""

    name: str
    method: str
    template: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.template.split("/") if s)


@dataclass(frozen=True)
class Route:
    """A matched VTEX operation and its decoded path parameters."""

    name: str
    order_id: str | None = None
    invoice_number: str | None = None


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path names an operation, but not with this method."""

    allowed: tuple[str, ...]


STANDARD_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("list_orders", "GET", "/api/oms/pvt/orders"),
    RouteSpec("get_order", "GET", "/api/oms/pvt/orders/{orderId}"),
    RouteSpec("invoice", "POST", "/api/oms/pvt/orders/{orderId}/invoice"),
    RouteSpec("tracking_number", "PATCH", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}"),
    RouteSpec("tracking_status", "PUT", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking"),
)

#: License Manager resources (any one of them is enough) per route name.
ROUTE_RESOURCES: dict[str, tuple[str, ...]] = {
    "invoice": ("Notify invoice",),
    "tracking_number": ("Notify invoice",),
    "tracking_status": ("Notify invoice",),
    "get_order": ("View order", "Orders Full Access"),
    "list_orders": ("View order", "Orders Full Access"),
}
#: Return (Input) invoices are covered by "Notify refund" too.
REFUND_RESOURCES: tuple[str, ...] = ("Notify refund", "Notify invoice")


def _bind(spec: RouteSpec, segments: list[str]) -> dict[str, str] | None:
    """The path parameters when ``segments`` fit the template, else ``None``."""
    expected = spec.segments
    if len(expected) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(expected, segments, strict=False):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def match(routes: tuple[RouteSpec, ...], method: str, segments: list[str]) -> Route | MethodNotAllowed | None:
    """Match a decoded path: the route, :class:`MethodNotAllowed` (with the methods that would fit) or
    ``None`` (no operation has this path)."""
    allowed: list[str] = []
    for spec in routes:
        params = _bind(spec, segments)
        if params is None:
            continue
        if spec.method == method:
            return Route(spec.name, params.get("orderId"), params.get("invoiceNumber"))
        allowed.append(spec.method)
    return MethodNotAllowed(tuple(allowed)) if allowed else None
