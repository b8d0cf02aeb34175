"""The route tables of VTEX's two data architectures, and matching a request against them.

A route name (``invoice``, ``get_order``...) names the VTEX operation, not the URL: it is the same in
both route sets, so fault rules, permissions and the request log work whatever the architecture, order
id or invoice number.

* ``standard``: the OMS routes of ``VTEX - Orders API.json`` (``/api/oms/pvt/orders/...``);
* ``pii``: the routes of ``VTEX - Orders API PII version.json`` (``/api/orders/...``), for stores on
  VTEX's PII data architecture. It has no tracking PATCH/PUT routes.

Both sets also serve the order feed (Feed v3: ``/api/orders/feed``, ``/api/orders/feed/config``), the
JSONata test route, order modifications (``/api/order-system/...``), the change summary and the
seller-window setting: VTEX documents them in the standard file only, but they belong to the account,
not to a data architecture.

A sandbox serves the set of its architecture. A request to the other set gets a 404 that names the
route to use instead, so a client author sees at once that the connection's architecture is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RouteSpec:
    """One VTEX operation: sandbox name, HTTP method, path template (``{name}`` = one segment), and
    whether it takes a JSON body (``required``, ``optional`` or ``none``)."""

    name: str
    method: str
    template: str
    body: str = "none"

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.template.split("/") if s)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class Route:
    """A matched VTEX operation and its decoded path parameters."""

    spec: RouteSpec
    order_id: str | None = None
    invoice_number: str | None = None
    payment_id: str | None = None
    change_request_id: str | None = None
    order_group: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path names an operation, but not with this method (``allowed`` goes into ``Allow``)."""

    allowed: tuple[str, ...]


@dataclass(frozen=True)
class WrongArchitecture:
    """The request fits a route of the OTHER data architecture; ``instead`` is what this one offers."""

    requested: RouteSpec
    architecture: str
    instead: str


STANDARD_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("list_orders", "GET", "/api/oms/pvt/orders"),
    RouteSpec("get_order", "GET", "/api/oms/pvt/orders/{orderId}"),
    RouteSpec("invoice", "POST", "/api/oms/pvt/orders/{orderId}/invoice", "required"),
    RouteSpec(
        "tracking_number", "PATCH", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}", "required"
    ),
    RouteSpec(
        "tracking_status", "PUT", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking", "required"
    ),
    RouteSpec("start_handling", "POST", "/api/oms/pvt/orders/{orderId}/start-handling"),
    RouteSpec("cancel", "POST", "/api/oms/pvt/orders/{orderId}/cancel", "optional"),
    RouteSpec(
        "payment_notification",
        "POST",
        "/api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification",
    ),
    RouteSpec("order_group", "GET", "/api/oms/pvt/orders/order-group/{orderGroup}"),
    RouteSpec("interactions", "POST", "/api/oms/pvt/orders/{orderId}/interactions", "required"),
    RouteSpec("conversation", "GET", "/api/oms/pvt/orders/{orderId}/conversation-message"),
    RouteSpec("payment_transaction", "GET", "/api/oms/pvt/orders/{orderId}/payment-transaction"),
    RouteSpec("user_orders", "GET", "/api/oms/user/orders"),
    RouteSpec("user_order", "GET", "/api/oms/user/orders/{orderId}"),
    # Deprecated by VTEX: the legacy "Register modifications" (replaced by order modifications under
    # /api/order-system) and Feed v2 (replaced by Feed v3). See ``views/deprecated.py``.
    RouteSpec("legacy_changes", "POST", "/api/oms/pvt/orders/{orderId}/changes", "required"),
    RouteSpec("feed_v2", "GET", "/api/oms/pvt/feed/orders/status"),
)

PII_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("list_orders", "POST", "/api/orders/extendsearch/orders", "optional"),
    RouteSpec("get_order", "GET", "/api/orders/pvt/document/{orderId}"),
    RouteSpec("invoice", "POST", "/api/orders/pvt/document/{orderId}/invoices", "required"),
    RouteSpec("start_handling", "POST", "/api/orders/pvt/document/{orderId}/actions/start-handling"),
    RouteSpec("cancel", "POST", "/api/orders/pvt/document/{orderId}/cancel", "optional"),
    RouteSpec(
        "payment_notification",
        "POST",
        "/api/orders/pvt/document/{orderId}/payment/{paymentId}/notify-payment",
    ),
)

#: The order feed (Feed v3) and JSONata test, served whatever the data architecture. One name for the three
#: methods of the configuration, so that one fault rule covers the configuration route.
FEED_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("feed", "GET", "/api/orders/feed"),
    RouteSpec("feed_commit", "POST", "/api/orders/feed", "required"),
    RouteSpec("feed_config", "GET", "/api/orders/feed/config"),
    RouteSpec("feed_config", "POST", "/api/orders/feed/config", "required"),
    RouteSpec("feed_config", "DELETE", "/api/orders/feed/config"),
    RouteSpec("jsonata", "POST", "/api/orders/expressions/jsonata", "required"),
    # The order hook (order_hook.py): the same resources as the feed's configuration.
    RouteSpec("hook_config", "GET", "/api/orders/hook/config"),
    RouteSpec("hook_config", "POST", "/api/orders/hook/config", "required"),
    RouteSpec("hook_config", "DELETE", "/api/orders/hook/config"),
)

#: Order modifications (v2), the change summary and the seller-window setting: routes of the account
#: rather than of a data architecture (``/api/order-system``, ``/api/checkout``; the change summary already
#: has the PII shape ``/api/orders/pvt/document/...``), so both sets serve them. One name per resource for the
#: methods of one path (as ``feed_config``), so one fault rule covers it.
ACCOUNT_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("change_create", "PATCH", "/api/order-system/orders/{changeOrderId}/changes", "required"),
    RouteSpec("change_history", "GET", "/api/order-system/orders/{changeOrderId}/changes"),
    RouteSpec(
        "change_preview", "POST", "/api/order-system/orders/{changeOrderId}/changes/preview", "required"
    ),
    RouteSpec("change_detail", "GET", "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}"),
    RouteSpec(
        "change_retry",
        "POST",
        "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/retry",
        "optional",
    ),
    RouteSpec(
        "change_cancel",
        "POST",
        "/api/order-system/orders/{changeOrderId}/changes/{changeRequestId}/cancel",
        "optional",
    ),
    RouteSpec("change_settings", "GET", "/api/order-system/orders/changes/settings"),
    RouteSpec("change_settings", "PUT", "/api/order-system/orders/changes/settings", "required"),
    RouteSpec("change_summary", "GET", "/api/orders/pvt/document/{orderId}/change-summary"),
    RouteSpec("seller_window", "GET", "/api/checkout/pvt/configuration/window-to-change-seller"),
    RouteSpec("seller_window", "POST", "/api/checkout/pvt/configuration/window-to-change-seller", "required"),
)

ROUTE_SETS: dict[str, tuple[RouteSpec, ...]] = {
    "standard": STANDARD_ROUTES + FEED_ROUTES + ACCOUNT_ROUTES,
    "pii": PII_ROUTES + FEED_ROUTES + ACCOUNT_ROUTES,
}
_ARCHITECTURE_NAMES = {"standard": "the standard OMS data architecture", "pii": "the PII data architecture"}

#: What a PII account offers instead of the standard tracking routes.
_PII_TRACKING_INSTEAD = (
    "the PII route set has no tracking routes: send courier, trackingNumber and trackingUrl with the invoice "
    "(POST /api/orders/pvt/document/{orderId}/invoices)"
)

#: Every order-modification operation lists the same three resources.
_CHANGE_RESOURCES = ("Orders Full Access", "Cancel order", "Change order")

#: License Manager resources (any one of them is enough) per route name.
ROUTE_RESOURCES: dict[str, tuple[str, ...]] = {
    "invoice": ("Notify invoice",),
    "tracking_number": ("Notify invoice",),
    "tracking_status": ("Notify invoice",),
    "get_order": ("View order", "Orders Full Access"),
    "list_orders": ("View order", "List Orders", "Orders Full Access"),
    "start_handling": ("Change order workflow status",),
    "cancel": ("Cancel order",),
    "payment_notification": ("Notify payment",),
    # VTEX's tables list both feed resources for each configuration method; reading the feed needs one.
    "feed": ("Feed v3 and Hook view only", "Feed v3 and Hook Admin"),
    "feed_commit": ("Feed v3 and Hook view only", "Feed v3 and Hook Admin"),
    "feed_config": ("Feed v3 and Hook view only", "Feed v3 and Hook Admin"),
    "jsonata": ("Feed v3 and Hook view only", "Feed v3 and Hook Admin"),
    "hook_config": ("Feed v3 and Hook view only", "Feed v3 and Hook Admin"),
    "order_group": ("View order", "Orders Full Access"),
    "interactions": ("Orders Full Access",),
    "conversation": ("Orders Full Access",),
    "payment_transaction": ("View order",),
    "user_orders": ("View order", "ViewMyContractOrders", "ViewMyOrgUnitOrders"),
    "user_order": ("View order", "ViewMyContractOrders", "ViewMyOrgUnitOrders"),
    "legacy_changes": _CHANGE_RESOURCES,
    # The file names no resource for Feed v2; it read orders, so View order.
    "feed_v2": ("View order",),
    "change_create": _CHANGE_RESOURCES,
    "change_history": _CHANGE_RESOURCES,
    "change_preview": _CHANGE_RESOURCES,
    "change_detail": _CHANGE_RESOURCES,
    "change_retry": _CHANGE_RESOURCES,
    "change_cancel": _CHANGE_RESOURCES,
    "change_settings": ("View order", "Orders Full Access"),
    # The file's table names "OMS Viewer" (a role); its resource is View order.
    "change_summary": ("View order", "Orders Full Access"),
    # The file names no resource: the setting belongs to Checkout's configuration.
    "seller_window": ("Orders Full Access",),
}
#: Where the method matters: changing the configuration takes the Admin resource. VTEX's tables list
#: "view only" too, but a view-only key that could rewrite the feed would not be view-only; the sandbox
#: takes the stricter reading, so a client never learns in production that it lacks Admin.
METHOD_RESOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("feed_config", "POST"): ("Feed v3 and Hook Admin",),
    ("feed_config", "DELETE"): ("Feed v3 and Hook Admin",),
    ("hook_config", "POST"): ("Feed v3 and Hook Admin",),
    ("hook_config", "DELETE"): ("Feed v3 and Hook Admin",),
    ("change_settings", "PUT"): _CHANGE_RESOURCES,
}
#: Return (Input) invoices are covered by "Notify refund" too.
REFUND_RESOURCES: tuple[str, ...] = ("Notify refund", "Notify invoice")

#: Every route name a fault rule may target.
ROUTE_NAMES: frozenset[str] = frozenset(ROUTE_RESOURCES)


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


def _match_set(
    routes: tuple[RouteSpec, ...], method: str, segments: list[str]
) -> Route | MethodNotAllowed | None:
    # A literal segment beats a parameter: ``.../changes/preview`` is the preview, not a change request
    # named "preview" (which would put GET in its Allow header).
    bound = [(spec, params) for spec in routes if (params := _bind(spec, segments)) is not None]
    most_literal = max((len(spec.segments) - len(params) for spec, params in bound), default=0)
    allowed: list[str] = []
    for spec, params in bound:
        if len(spec.segments) - len(params) < most_literal:
            continue
        if spec.method == method:
            return Route(
                spec,
                params.get("orderId") or params.get("changeOrderId"),
                params.get("invoiceNumber"),
                params.get("paymentId"),
                params.get("changeRequestId"),
                params.get("orderGroup"),
            )
        allowed.append(spec.method)
    return MethodNotAllowed(tuple(allowed)) if allowed else None


def match(
    architecture: str, method: str, segments: list[str]
) -> Route | MethodNotAllowed | WrongArchitecture | None:
    """Match a decoded path against the architecture's route set.

    Returns the route, :class:`MethodNotAllowed` (the path exists with other methods),
    :class:`WrongArchitecture` (the request fits the other route set) or ``None`` (unknown path).
    """
    found = _match_set(ROUTE_SETS[architecture], method, segments)
    if found is not None:
        return found
    other = "pii" if architecture == "standard" else "standard"
    elsewhere = _match_set(ROUTE_SETS[other], method, segments)
    if isinstance(elsewhere, Route):
        return WrongArchitecture(elsewhere.spec, architecture, _instead(architecture, elsewhere.name))
    return None


def _instead(architecture: str, name: str) -> str:
    counterpart = next((s for s in ROUTE_SETS[architecture] if s.name == name), None)
    if counterpart is not None:
        return f"use {counterpart}"
    if name in ("tracking_number", "tracking_status"):
        return _PII_TRACKING_INSTEAD
    return "the PII route set has no counterpart of this operation (VTEX's PII file does not document one)"


def wrong_architecture_message(wrong: WrongArchitecture) -> str:
    """What a client author must read: which architecture the account uses and the route to call."""
    other = "pii" if wrong.architecture == "standard" else "standard"
    return (
        f"This account uses {_ARCHITECTURE_NAMES[wrong.architecture]}: {wrong.instead}. "
        f"{wrong.requested} belongs to {_ARCHITECTURE_NAMES[other]} "
        "(vtex-sandbox: set the connection's data_architecture extra to match the store, or start the "
        f"sandbox with --data-architecture {other})"
    )
