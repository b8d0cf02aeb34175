"""VTEX's route sets: which method and path each operation uses on each data architecture, what it
needs from License Manager, and whether sending it twice is harmless.

The path of every route is a template; the values put into it (order ids, invoice numbers) are checked
against what VTEX itself uses (letters, digits, ``.``, ``-``, ``_``; never ``.``/``..`` alone), so no value
can change the route: ``../../x``, ``a?b=c`` or ``x#y`` are refused before any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_vtex.exceptions import VtexPayloadError, VtexUnsupportedError
from airflow_provider_vtex.models.types import check_path_value

#: License Manager resources (product OMS, category "OMS access") the calls need.
RESOURCE_NOTIFY_INVOICE = "Notify invoice"
RESOURCE_VIEW_ORDER = "View order"
RESOURCE_CHANGE_WORKFLOW = "Change order workflow status"
RESOURCE_CANCEL_ORDER = "Cancel order"
RESOURCE_NOTIFY_PAYMENT = "Notify payment"
RESOURCE_FEED_VIEW = "Feed v3 and Hook view only"
RESOURCE_FEED_ADMIN = "Feed v3 and Hook Admin"
RESOURCE_LIST_ORDERS = "List Orders"
RESOURCE_CHANGE_ORDER = "Change order"
RESOURCE_FULL_ACCESS = "Orders Full Access"

Operation = Literal[
    "invoice",
    "tracking_number",
    "tracking_status",
    "get_order",
    "list_orders",
    "start_handling",
    "cancel",
    "payment_notification",
    "feed_items",
    "feed_commit",
    "feed_config_get",
    "feed_config_set",
    "feed_config_delete",
    # the rest of the Orders API (the order day): reads
    "get_order_group",
    "get_payment_transaction",
    "get_conversation",
    "get_change_summary",
    "list_user_orders",
    "get_user_order",
    "test_jsonata",
    "get_seller_window",
    "set_seller_window",
    # the order's log
    "add_interaction",
    # order modifications (v2)
    "preview_change",
    "create_change",
    "list_changes",
    "get_change",
    "retry_change",
    "cancel_change",
    "get_change_settings",
    "set_change_settings",
    "hook_config_get",
    "hook_config_set",
    "hook_config_delete",
]

_VALUE_RULES = {
    "order_id": ("order id", "1172452900788-01"),
    "invoice_number": ("invoice number", "NF-0001"),
    "payment_id": ("payment id", "F5C1A4E20D3B4E07B7E871F5B5BC9F91"),
    # A modification's order is the order itself (VTEX calls it changeOrderId).
    "change_order_id": ("changeOrderId (the order id)", "1172452900788-01"),
    "change_request_id": ("changeRequestId", "e8532a32-7f7e-434a-88ec-29609f0ede46"),
    "order_group": ("order group", "1172452900788"),
}

_ORDER_404 = (
    "Check the order id; in marketplace flows the invoice goes to the seller (fulfillment) account's order, "
    "and only orders of the last two years can be reached."
)
_INVOICE_404 = (
    "Check the order id and invoice number: tracking goes onto an invoice VTEX already holds on that order "
    "(send the invoice first); only orders of the last two years can be reached."
)
_PAYMENT_404 = (
    "Check the order id and payment id: an order's payment ids are in paymentData.transactions[].payments[].id "
    "of GET order; only orders of the last two years can be reached."
)
_FEED_404 = (
    "VTEX holds no feed configuration for this AppKey (the connection's login), so it has no feed queue: "
    "create one with VtexHook.set_feed_config({'filter': {'type': 'FromWorkflow', 'status': "
    "['ready-for-handling']}, 'queue': {'visibilityTimeoutInSeconds': 250}}) (POST /api/orders/feed/config, "
    "License Manager resource 'Feed v3 and Hook Admin'), then read the feed again."
)
_GROUP_404 = (
    "Check the order group: it is an order id without its '-01' suffix (an order's orderGroup field in "
    "GET order); only orders of the last two years can be reached."
)
_CHANGE_404 = (
    "Check the order id (changeOrderId) and changeRequestId: a change request id is the requestId VTEX "
    "answered to the PATCH that created it (VtexHook.create_change), or one of list_changes()."
)
_SETTINGS_404 = (
    "Check the connection's account name, environment or base_url: this address has no such route."
)
_HOOK_404 = (
    "VTEX holds no order hook configuration for this AppKey (the connection's login): VTEX deletes a hook that "
    "had no notification for 3 days. Register it (again) with VtexRegisterOrderHookOperator or "
    "VtexHook.set_hook_config (POST /api/orders/hook/config, License Manager resource 'Feed v3 and Hook Admin')."
)
_LIST_404 = (
    "Check the connection's account name, environment or base_url: this address has no OMS order list."
)


@dataclass(frozen=True)
class Route:
    """One VTEX operation: method, path template, License Manager resource, and whether it is safe to
    repeat (``idempotent``: a GET, a PUT/PATCH that sets values, or a POST VTEX documents as repeatable)."""

    method: str
    template: str
    resource: str
    idempotent: bool
    #: What a 404 on this route means and what to do (an order route's advice is wrong on a feed route).
    not_found: str = ""
    #: The answer is one JSON value (``true``, ``2``) rather than an object or a list: the JSONata test and
    #: the seller window. Elsewhere a bare value is refused as "not VTEX's JSON".
    scalar_answer: bool = False

    def path(self, **values: Any) -> str:
        """The path with each value checked and put in its place."""
        return self.template.format(**check_route_values(**values))


def check_route_values(**values: Any) -> dict[str, str]:
    """Each value that goes into a route (``order_id``, ``invoice_number``) checked, or one
    :class:`VtexPayloadError` naming every bad one: the error the operators turn into a failure without
    retries. The hook calls this first thing in each public method, before any request (a read
    included), and :meth:`Route.path` again when it builds the path."""
    checked: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for name, value in values.items():
        what, example = _VALUE_RULES[name]
        try:
            checked[name] = check_path_value(value, what, example)
        except ValueError as exc:
            problems.append((name, str(exc)))
    if problems:
        raise VtexPayloadError("request", problems)
    return checked


_OMS = "/api/oms/pvt/orders"
_PII = "/api/orders/pvt/document"
_FEED: dict[str, Route] = {
    # Reading the feed hands items out; reading again after a lost answer only delays those items until
    # the queue's visibility timeout, so it is safe to repeat.
    "feed_items": Route("GET", "/api/orders/feed", RESOURCE_FEED_VIEW, idempotent=True, not_found=_FEED_404),
    "feed_commit": Route(
        "POST", "/api/orders/feed", RESOURCE_FEED_VIEW, idempotent=True, not_found=_FEED_404
    ),
    "feed_config_get": Route(
        "GET", "/api/orders/feed/config", RESOURCE_FEED_VIEW, idempotent=True, not_found=_FEED_404
    ),
    "feed_config_set": Route(
        "POST", "/api/orders/feed/config", RESOURCE_FEED_ADMIN, idempotent=True, not_found=_FEED_404
    ),
    "feed_config_delete": Route(
        "DELETE", "/api/orders/feed/config", RESOURCE_FEED_ADMIN, idempotent=True, not_found=_FEED_404
    ),
    # The order hook: one configuration per AppKey, as for the feed. Saving makes VTEX ping the URL.
    "hook_config_get": Route(
        "GET", "/api/orders/hook/config", RESOURCE_FEED_VIEW, idempotent=True, not_found=_HOOK_404
    ),
    "hook_config_set": Route(
        "POST", "/api/orders/hook/config", RESOURCE_FEED_ADMIN, idempotent=True, not_found=_HOOK_404
    ),
    "hook_config_delete": Route(
        "DELETE", "/api/orders/hook/config", RESOURCE_FEED_ADMIN, idempotent=True, not_found=_HOOK_404
    ),
}

_CHANGES = "/api/order-system/orders"
#: Account-level routes VTEX documents in the standard file but that belong to the account, not to a data
#: architecture (the feed's JSONATA test, the seller window, order modifications v2 and the change summary,
#: whose path is already the PII one): the same in both route sets.
_ACCOUNT: dict[str, Route] = {
    # Evaluates an expression against a document: reads nothing, changes nothing.
    "test_jsonata": Route(
        "POST",
        "/api/orders/expressions/jsonata",
        RESOURCE_FEED_VIEW,
        idempotent=True,
        not_found=_SETTINGS_404,
        scalar_answer=True,
    ),
    "get_seller_window": Route(
        "GET",
        "/api/checkout/pvt/configuration/window-to-change-seller",
        RESOURCE_FULL_ACCESS,
        idempotent=True,
        not_found=_SETTINGS_404,
        scalar_answer=True,
    ),
    # Sets a value: sending the same value twice leaves the same setting.
    "set_seller_window": Route(
        "POST",
        "/api/checkout/pvt/configuration/window-to-change-seller",
        RESOURCE_FULL_ACCESS,
        idempotent=True,
        not_found=_SETTINGS_404,
        scalar_answer=True,
    ),
    "get_change_summary": Route(
        "GET", _PII + "/{order_id}/change-summary", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_ORDER_404
    ),
    # A preview changes nothing: safe to repeat.
    "preview_change": Route(
        "POST",
        _CHANGES + "/{change_order_id}/changes/preview",
        RESOURCE_CHANGE_ORDER,
        idempotent=True,
        not_found=_ORDER_404,
    ),
    # Each PATCH creates a change request: a repeat would modify the order twice (read back by reason).
    "create_change": Route(
        "PATCH",
        _CHANGES + "/{change_order_id}/changes",
        RESOURCE_CHANGE_ORDER,
        idempotent=False,
        not_found=_ORDER_404,
    ),
    "list_changes": Route(
        "GET",
        _CHANGES + "/{change_order_id}/changes",
        RESOURCE_CHANGE_ORDER,
        idempotent=True,
        not_found=_ORDER_404,
    ),
    "get_change": Route(
        "GET",
        _CHANGES + "/{change_order_id}/changes/{change_request_id}",
        RESOURCE_CHANGE_ORDER,
        idempotent=True,
        not_found=_CHANGE_404,
    ),
    # VTEX: a retry "instead of creating a new modification, avoids duplications": safe to repeat.
    "retry_change": Route(
        "POST",
        _CHANGES + "/{change_order_id}/changes/{change_request_id}/retry",
        RESOURCE_CHANGE_ORDER,
        idempotent=True,
        not_found=_CHANGE_404,
    ),
    # Not repeated blindly: read back (the change request's status) after an ambiguous answer.
    "cancel_change": Route(
        "POST",
        _CHANGES + "/{change_order_id}/changes/{change_request_id}/cancel",
        RESOURCE_CHANGE_ORDER,
        idempotent=False,
        not_found=_CHANGE_404,
    ),
    "get_change_settings": Route(
        "GET", _CHANGES + "/changes/settings", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_SETTINGS_404
    ),
    # A PUT that replaces the settings: repeating it leaves the same settings.
    "set_change_settings": Route(
        "PUT", _CHANGES + "/changes/settings", RESOURCE_CHANGE_ORDER, idempotent=True, not_found=_SETTINGS_404
    ),
}
#: OMS routes VTEX documents only on the standard route set.
_STANDARD_ONLY: dict[str, Route] = {
    "get_order_group": Route(
        "GET", _OMS + "/order-group/{order_group}", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_GROUP_404
    ),
    "get_payment_transaction": Route(
        "GET",
        _OMS + "/{order_id}/payment-transaction",
        RESOURCE_VIEW_ORDER,
        idempotent=True,
        not_found=_ORDER_404,
    ),
    "get_conversation": Route(
        "GET",
        _OMS + "/{order_id}/conversation-message",
        RESOURCE_FULL_ACCESS,
        idempotent=True,
        not_found=_ORDER_404,
    ),
    "list_user_orders": Route(
        "GET", "/api/oms/user/orders", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_LIST_404
    ),
    "get_user_order": Route(
        "GET", "/api/oms/user/orders/{order_id}", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_ORDER_404
    ),
    # Each POST adds a line to the order's log. Repeating it after a lost answer adds the line twice at
    # worst, which a log tolerates better than a missing line: retried like a read (at least once).
    "add_interaction": Route(
        "POST", _OMS + "/{order_id}/interactions", RESOURCE_FULL_ACCESS, idempotent=True, not_found=_ORDER_404
    ),
}

#: The route set of each data architecture. The PII set has no tracking routes (VTEX's PII spec has
#: none); the order feed is the same for both.
ROUTE_SETS: dict[str, dict[str, Route]] = {
    "standard": {
        "invoice": Route(
            "POST",
            _OMS + "/{order_id}/invoice",
            RESOURCE_NOTIFY_INVOICE,
            idempotent=False,
            not_found=_ORDER_404,
        ),
        "tracking_number": Route(
            "PATCH",
            _OMS + "/{order_id}/invoice/{invoice_number}",
            RESOURCE_NOTIFY_INVOICE,
            idempotent=True,
            not_found=_INVOICE_404,
        ),
        "tracking_status": Route(
            "PUT",
            _OMS + "/{order_id}/invoice/{invoice_number}/tracking",
            RESOURCE_NOTIFY_INVOICE,
            idempotent=True,
            not_found=_INVOICE_404,
        ),
        "get_order": Route(
            "GET", _OMS + "/{order_id}", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_ORDER_404
        ),
        "list_orders": Route("GET", _OMS, RESOURCE_VIEW_ORDER, idempotent=True, not_found=_LIST_404),
        "start_handling": Route(
            "POST",
            _OMS + "/{order_id}/start-handling",
            RESOURCE_CHANGE_WORKFLOW,
            idempotent=False,
            not_found=_ORDER_404,
        ),
        "cancel": Route(
            "POST", _OMS + "/{order_id}/cancel", RESOURCE_CANCEL_ORDER, idempotent=False, not_found=_ORDER_404
        ),
        # VTEX documents nothing about a repeated notification: sent once, read back when the answer is lost.
        "payment_notification": Route(
            "POST",
            _OMS + "/{order_id}/payments/{payment_id}/payment-notification",
            RESOURCE_NOTIFY_PAYMENT,
            idempotent=False,
            not_found=_PAYMENT_404,
        ),
        **_FEED,
        **_ACCOUNT,
        **_STANDARD_ONLY,
    },
    "pii": {
        "invoice": Route(
            "POST",
            _PII + "/{order_id}/invoices",
            RESOURCE_NOTIFY_INVOICE,
            idempotent=False,
            not_found=_ORDER_404,
        ),
        "get_order": Route(
            "GET", _PII + "/{order_id}", RESOURCE_VIEW_ORDER, idempotent=True, not_found=_ORDER_404
        ),
        # A search: a POST that reads nothing but changes nothing.
        "list_orders": Route(
            "POST",
            "/api/orders/extendsearch/orders",
            RESOURCE_VIEW_ORDER,
            idempotent=True,
            not_found=_LIST_404,
        ),
        "start_handling": Route(
            "POST",
            _PII + "/{order_id}/actions/start-handling",
            RESOURCE_CHANGE_WORKFLOW,
            idempotent=False,
            not_found=_ORDER_404,
        ),
        "cancel": Route(
            "POST", _PII + "/{order_id}/cancel", RESOURCE_CANCEL_ORDER, idempotent=False, not_found=_ORDER_404
        ),
        "payment_notification": Route(
            "POST",
            _PII + "/{order_id}/payment/{payment_id}/notify-payment",
            RESOURCE_NOTIFY_PAYMENT,
            idempotent=False,
            not_found=_PAYMENT_404,
        ),
        **_FEED,
        **_ACCOUNT,
    },
}

#: The operations of VTEX's two files this provider does not expose: VTEX's operation id and what replaces
#: each. The docs' operation table lists them from here.
NOT_EXPOSED: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/api/oms/pvt/orders/{orderId}/changes"): (
        "RegisterChange",
        "Deprecated (legacy 'Register modifications'): use order modifications v2, "
        "VtexHook.create_change / VtexOrderModificationOperator.",
    ),
    ("GET", "/api/oms/pvt/feed/orders/status"): (
        "Getfeedorderstatus",
        "Deprecated (Feed v2): use the order feed v3, VtexHook.get_feed_items / VtexReadOrderFeedOperator.",
    ),
}

_PII_TRACKING = (
    "VTEX's PII data architecture has no tracking routes (its Orders API has no PATCH/PUT tracking "
    "operation), and its invoice route refuses a second request with the same invoiceNumber, so tracking "
    "cannot be sent after the invoice. Send courier, trackingNumber and trackingUrl inside the invoice "
    "payload of InvoiceNotificationOperator when you have them, or check the connection's "
    "data_architecture if this store uses VTEX's standard routes."
)


def route_for(data_architecture: str, operation: Operation) -> Route:
    """The route of ``operation`` on ``data_architecture``; a clear error where VTEX has none."""
    routes = ROUTE_SETS[data_architecture]
    if operation not in routes:
        if operation in ("tracking_number", "tracking_status"):
            raise VtexUnsupportedError(_PII_TRACKING)
        raise VtexUnsupportedError(
            f"VTEX has no {operation} route on the {data_architecture} data architecture."
        )
    return routes[operation]
