"""Which VTEX operation each route-table operation is, and which hook method and operator serve it.

The docs' operation table (docs/operations.md) is generated from this and from
:data:`~airflow_provider_vtex.client.routes.ROUTE_SETS` at build time (docs/_mkdocs/hooks.py), so it
cannot drift: ``tests/unit/hooks/test_operations.py`` checks that every operation of the route tables is
listed here, that each method and operator exists, and that each VTEX operation id is the one VTEX's files
give the route.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_vtex.client.routes import NOT_EXPOSED, ROUTE_SETS


@dataclass(frozen=True)
class Served:
    """How the provider serves one operation: VTEX's operation id(s) (standard file; PII file after a
    slash), the :class:`~airflow_provider_vtex.hooks.vtex.VtexHook` method(s), and the operator if any."""

    vtex: str
    methods: tuple[str, ...]
    operator: str | None = None


_INVOICE_OP = "InvoiceNotificationOperator, BulkInvoiceNotificationOperator"
OPERATIONS: dict[str, Served] = {
    "invoice": Served("InvoiceNotification / InvoiceNotification2", ("send_invoice",), _INVOICE_OP),
    "tracking_number": Served(
        "Updatepartialinvoice.SendTrackingNumber", ("notify_tracking",), "TrackingNotificationOperator"
    ),
    "tracking_status": Served("UpdateTrackingStatus", ("notify_tracking",), "TrackingNotificationOperator"),
    "get_order": Served(
        "GetOrder / GetOrder2", ("get_order", "aget_order"), "VtexOrderStatusSensor (VtexOrderStatusTrigger)"
    ),
    "list_orders": Served("ListOrders / ListOrders2", ("list_orders", "iter_orders")),
    "start_handling": Served(
        "StartHandling / StartHandling2", ("start_handling",), "VtexStartHandlingOperator"
    ),
    "cancel": Served(
        "CancelOrder / CancelOrder2", ("cancel_order", "cancel_order_once"), "VtexCancelOrderOperator"
    ),
    "payment_notification": Served(
        "SendPaymentNotification / SendPaymentNotification2",
        ("notify_payment",),
        "VtexPaymentNotificationOperator",
    ),
    "feed_items": Served(
        "Getfeedorderstatus1",
        ("get_feed_items", "aget_feed_items"),
        "VtexReadOrderFeedOperator (VtexOrderFeedTrigger)",
    ),
    "feed_commit": Served(
        "Commititemfeedorderstatus",
        ("commit_feed_items", "acommit_feed_items"),
        "VtexCommitOrderFeedOperator",
    ),
    "feed_config_get": Served("GetFeedConfiguration", ("get_feed_config",)),
    "feed_config_set": Served("FeedConfiguration", ("set_feed_config",)),
    "feed_config_delete": Served("FeedConfigurationDelete", ("delete_feed_config",)),
    "hook_config_get": Served(
        "GetHookConfiguration", ("get_hook_config", "ensure_hook_config"), "VtexRegisterOrderHookOperator"
    ),
    "hook_config_set": Served(
        "HookConfiguration", ("set_hook_config", "ensure_hook_config"), "VtexRegisterOrderHookOperator"
    ),
    "hook_config_delete": Served("DeleteHookConfiguration", ("delete_hook_config",)),
    "get_order_group": Served("(Get orders by order group ID)", ("get_order_group",)),
    "get_payment_transaction": Served("GetPaymenttransaction", ("get_payment_transaction",)),
    "get_conversation": Served("GetConversation", ("get_conversation",)),
    "get_change_summary": Served("GetChangeSummary", ("get_change_summary",)),
    "list_user_orders": Served("Userorderslist", ("list_user_orders",)),
    "get_user_order": Served("Userorderdetails", ("get_user_order",)),
    "test_jsonata": Served("TestJSONataExpression", ("test_jsonata",)),
    "get_seller_window": Served("GetWindowToChangeSeller", ("get_seller_window",)),
    "set_seller_window": Served("UpdateWindowToChangeSeller", ("set_seller_window",)),
    "add_interaction": Served("AddLog", ("add_interaction",), "VtexOrderLogOperator"),
    "preview_change": Served("PreviewChange", ("preview_change",), "VtexOrderModificationOperator"),
    "create_change": Served("Createchange", ("create_change",), "VtexOrderModificationOperator"),
    "list_changes": Served(
        "GetChangeHistory", ("list_changes", "find_change"), "VtexOrderModificationOperator"
    ),
    "get_change": Served(
        "GetChangeDetail",
        ("get_change", "aget_change"),
        "VtexOrderModificationOperator (VtexChangeRequestTrigger)",
    ),
    "retry_change": Served("RetryChange", ("retry_change",)),
    "cancel_change": Served("CancelChangeStoppedonError", ("cancel_change",)),
    "get_change_settings": Served("(Get Order modifications settings)", ("get_change_settings",)),
    "set_change_settings": Served("(Update Order modifications settings)", ("set_change_settings",)),
}


@dataclass(frozen=True)
class Row:
    """One line of the operation table."""

    vtex: str
    routes: tuple[str, ...]  # "METHOD path (route set)"
    methods: tuple[str, ...]
    operator: str | None
    note: str = ""


def operation_rows() -> list[Row]:
    """Every operation of the route tables, then those not exposed, for the docs' table."""
    rows: list[Row] = []
    names: list[str] = []
    for routes in ROUTE_SETS.values():
        names += [name for name in routes if name not in names]
    for name in names:
        served = OPERATIONS.get(name) or Served(f"({name}: not listed in hooks/operations.py)", ())
        where: dict[str, list[str]] = {}
        for architecture, routes in ROUTE_SETS.items():
            if name in routes:
                route = routes[name]
                where.setdefault(f"{route.method} {route.template}", []).append(architecture)
        shown = tuple(
            route if len(sets) == len(ROUTE_SETS) else f"{route} ({', '.join(sets)})"
            for route, sets in where.items()
        )
        rows.append(Row(served.vtex, shown, served.methods, served.operator))
    for (method, path), (vtex, replaced_by) in NOT_EXPOSED.items():
        rows.append(Row(f"{vtex} (deprecated: not exposed)", (f"{method} {path}",), (), None, replaced_by))
    return rows
