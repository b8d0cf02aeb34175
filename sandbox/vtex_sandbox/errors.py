"""VTEX's error envelope and the error codes the sandbox answers with.

VTEX writes errors as ``{"error": {"code", "message", "exception": null}}``. Documented by VTEX: code
``"1"`` / "Unauthorized access" (401) and ``OMS003`` (wrong workflow status). Seen in public integration
code: ``OMS007`` "Order Not Found". The message "Invoice Not Found" is quoted in VTEX known issue 631970,
but its code is not. VTEX documents no 4xx at all for the invoice/tracking routes, so every code below
marked *invented* is the sandbox's own plausible choice: clients should branch on the HTTP status, never
on these codes.
"""

from __future__ import annotations

from typing import Any

CODE_UNAUTHORIZED = "1"  # documented (401 example in the OpenAPI file)
CODE_FORBIDDEN = "403"  # invented: VTEX documents the 403 status but no body
CODE_ORDER_NOT_FOUND = "OMS007"  # seen in public integration code
CODE_INVOICE_NOT_FOUND = "OMS010"  # invented code; message from known issue 631970
CODE_WRONG_STATUS = "OMS003"  # documented for start-handling; reused for invoicing a canceled order
CODE_INVALID_REQUEST = "OMS001"  # invented: any malformed body or query
CODE_INVOICE_TOO_HIGH = "OMS009"  # invented: Output invoices would exceed the order value
CODE_NO_TRACKING_NUMBER = "OMS011"  # invented: PUT tracking before a tracking number exists
CODE_UNSUPPORTED_MEDIA = "OMS415"  # invented: body without Content-Type: application/json
CODE_CANNOT_CANCEL = "OMS012"  # invented: VTEX documents the refusal (invoiced, partially invoiced), no code
CODE_DUPLICATE_INVOICE = "OMS013"  # invented: the PII route documents "not allowed", no status or code
CODE_ROUTE_NOT_FOUND = "404"  # invented: VTEX's answer to unknown routes is undocumented
CODE_WRONG_ARCHITECTURE = "ARCHITECTURE"  # invented: a route of the account's other data architecture
CODE_METHOD_NOT_ALLOWED = "405"  # invented: VTEX's answer to a wrong method is undocumented
CODE_FEED_NOT_CONFIGURED = "OMS014"  # invented: VTEX documents the 404, not its body
CODE_PAYMENT_NOT_FOUND = "OMS015"  # invented: VTEX documents the 404 ("Value not found"), not its body
CODE_SANDBOX = "SANDBOX"  # the admin API's own errors (not VTEX)

#: Codes VTEX never documented: the sandbox's own choice (listed so tests and docs can say so).
INVENTED_CODES: frozenset[str] = frozenset(
    {
        CODE_FORBIDDEN,
        CODE_INVOICE_NOT_FOUND,
        CODE_INVALID_REQUEST,
        CODE_INVOICE_TOO_HIGH,
        CODE_NO_TRACKING_NUMBER,
        CODE_UNSUPPORTED_MEDIA,
        CODE_ROUTE_NOT_FOUND,
        CODE_METHOD_NOT_ALLOWED,
        CODE_CANNOT_CANCEL,
        CODE_DUPLICATE_INVOICE,
        CODE_WRONG_ARCHITECTURE,
        CODE_FEED_NOT_CONFIGURED,
        CODE_PAYMENT_NOT_FOUND,
    }
)


class SandboxError(Exception):
    """An error answer: HTTP status plus VTEX's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


def error_body(code: str, message: str) -> dict[str, Any]:
    """VTEX's error envelope."""
    return {"error": {"code": code, "message": message, "exception": None}}


def bad_request(message: str) -> SandboxError:
    return SandboxError(400, CODE_INVALID_REQUEST, message)


#: Appended to VTEX's "Order Not Found" when the sandbox could have created the order: a newcomer running
#: the bulk example against a plain sandbox learns what to start.
AUTO_CREATE_HINT = (
    " (vtex-sandbox: no such order. Seed it, add it with POST /_sandbox/orders, or start the sandbox with "
    "--auto-create-orders (auto_create_orders=True) so that an invoice creates its unknown order)"
)


def order_not_found(*, hint: bool = False) -> SandboxError:
    """VTEX's 404 for an unknown order; ``hint`` appends how to make the sandbox create orders."""
    return SandboxError(404, CODE_ORDER_NOT_FOUND, "Order Not Found" + (AUTO_CREATE_HINT if hint else ""))


def invoice_not_found() -> SandboxError:
    return SandboxError(404, CODE_INVOICE_NOT_FOUND, "Invoice Not Found")


def payment_not_found(order_id: str, payment_id: str) -> SandboxError:
    """VTEX's 404 for a payment id the order does not have (its OpenAPI files: "Value not found")."""
    return SandboxError(
        404,
        CODE_PAYMENT_NOT_FOUND,
        f"Value not found: order {order_id} has no payment {payment_id} (the payment ids of an order are in "
        "paymentData.transactions[].payments[].id of GET order)",
    )


def feed_not_configured() -> SandboxError:
    """VTEX's 404 for a feed call by an AppKey without a feed configuration (the words of its OpenAPI
    file: "Value not found", no Feed Configuration "for the given X-VTEX-API-AppKey")."""
    return SandboxError(
        404,
        CODE_FEED_NOT_CONFIGURED,
        "Value not found: there is no Feed Configuration for the given X-VTEX-API-AppKey. Create one first "
        "with POST /api/orders/feed/config (the feed is per AppKey: each key has its own configuration "
        "and queue)",
    )
