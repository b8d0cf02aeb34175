"""What OMS holds: orders, their items and invoice packages (plain records, no behaviour).

The records are independent of the route set a request came through: a validated invoice from the
standard route and one from the PII route become the same :class:`InvoiceNotice`, and ``views`` renders
them in the shape of the route set that asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

STATUS_DESCRIPTIONS: dict[str, str] = {
    # VTEX shows the store's locale; the sandbox plays a Brazilian store, as VTEX's own examples do.
    "waiting-for-sellers-confirmation": "Aguardando confirmação do seller",
    "payment-pending": "Pagamento Pendente",
    "payment-approved": "Pagamento Aprovado",
    "ready-for-handling": "Pronto para o manuseio",
    "handling": "Preparando Entrega",
    "invoiced": "Faturado",
    "canceled": "Cancelado",
}

#: Receipt history kept per invoice: enough for any test, bounded for a load test re-sending one invoice.
MAX_RECEIPT_HISTORY = 10_000


@dataclass(frozen=True)
class OrderItem:
    """One line of an order: a SKU, how many, and its prices in cents."""

    unique_id: str
    sku: str
    product_id: str
    ref_id: str
    ean: str | None
    name: str
    quantity: int
    price: int
    list_price: int
    selling_price: int
    seller: str
    image_url: str
    detail_url: str


@dataclass(frozen=True)
class InvoiceLine:
    """One invoiced line, whichever route set sent it.

    The standard route sends the UNIT price (VTEX multiplies it by the quantity); the PII route sends the
    TOTAL of the line. Both are kept, so each view can show what its route set means by ``price``.
    """

    item_index: int
    sku: str
    quantity: int
    unit_price: int
    line_total: int
    description: str | None = None


@dataclass(frozen=True)
class InvoiceNotice:
    """A validated invoice notification; dates are already in VTEX's time-stamp format."""

    kind: str  # "Output" (sale) or "Input" (return)
    number: str
    value: int
    issuance_date: str
    lines: tuple[InvoiceLine, ...]
    invoice_key: str | None = None
    invoice_url: str | None = None
    embedded_invoice: str | None = None
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_date: str | None = None
    cfop: str | None = None
    extra_value: int | None = None
    volumes: int | None = None


@dataclass
class TrackingEvent:
    city: str
    state: str
    description: str
    date: str  # VTEX time stamp of the event's day
    received: str  # when the sandbox got it (``lastChange``)


@dataclass
class CourierStatus:
    """What PUT tracking last said: delivered or not, and the events."""

    finished: bool
    delivered_date: str | None
    events: list[TrackingEvent]


@dataclass
class Package:
    """An invoice as OMS stores it, plus the sandbox's own history of the calls that touched it.

    ``courier``/``tracking_*``/``dispatched_date`` start as the invoice sent them and change with PATCH
    tracking; ``refund`` is the value refunded by a return invoice (``None``: no refund happened).
    """

    notice: InvoiceNotice
    visible_at: float
    receipt: str
    last_change: str
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_date: str | None = None
    courier_status: CourierStatus | None = None
    refund: int | None = None
    receipts: list[dict[str, str]] = field(default_factory=list)
    tracking_receipts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Cancellation:
    reason: str
    date: str
    request_id: str


@dataclass(frozen=True)
class StatusMark:
    """When an order reached a status: VTEX time stamp, epoch seconds, and monotonic seconds (for
    latencies that a clock change cannot distort)."""

    status: str
    at: str
    timestamp: float
    monotonic: float


@dataclass
class StartHandlingLog:
    """Every start-handling call that reached OMS for one order (faults that answer before OMS, such as
    a 429, are in the request log only): how many, how many were accepted (204), and when."""

    calls: int = 0
    accepted: int = 0
    first_call: StatusMark | None = None
    first_accepted: StatusMark | None = None

    @property
    def refused(self) -> int:
        return self.calls - self.accepted


@dataclass(frozen=True)
class PaymentNotification:
    """One payment notification that reached OMS: which payment, when, and the order's status then."""

    payment_id: str
    at: str
    status_before: str


@dataclass(frozen=True)
class OrderChange:
    """One change of one order, as the order feed sees it: the status before and after (equal when the
    change was not a status move, such as a tracking update) and when the order changed before and now.

    ``document`` renders the order after the change as GET order shows it; it is called only when a
    FromOrders filter needs it (rendering a whole order for every change would be wasted otherwise).
    """

    order_id: str
    last_state: str
    state: str
    last_change: str
    current_change: str
    document: Callable[[], dict[str, Any]]

    @property
    def status_changed(self) -> bool:
        return self.state != self.last_state


@dataclass(frozen=True)
class Interaction:
    """One line of the order's log (``POST .../interactions``), as the Admin's order history shows it."""

    id: str
    source: str
    message: str
    date: str


@dataclass(frozen=True)
class CancellationRequest:
    """A cancellation that reached the order outside its grace window, and the seller's answer to it."""

    id: str
    reason: str
    date: str
    denied: bool
    denied_reason: str | None = None
    deny_date: str | None = None


@dataclass(frozen=True)
class ChangeLine:
    """One SKU an order modification touches: its quantity and unit selling price before and after (0
    quantity: the SKU is absent on that side)."""

    sku: str
    unique_id: str
    name: str
    quantity_from: int
    quantity_to: int
    price_from: int
    price_to: int


@dataclass
class ChangeRequest:
    """An order modification (``PATCH /api/order-system/orders/{changeOrderId}/changes``).

    ``items_after`` and ``value_after`` are what the order holds once the request is ``done``; the request
    walks ``waiting-acknowledgement`` -> ``waiting-confirmation`` -> ``done`` on the sandbox clock
    (``acknowledged_at``, ``done_at``), or stops in ``error`` (then retry or cancel it).
    """

    request_id: str
    workflow_id: str
    reason: str
    date: str
    lines: tuple[ChangeLine, ...]
    manual_discount: int
    manual_increment: int
    value_before: int
    value_after: int
    items_after: list[OrderItem]
    submitted_at: float
    acknowledged_at: float
    done_at: float
    status: str = "waiting-acknowledgement"
    fail: bool = False
    logs: list[dict[str, str]] = field(default_factory=list)
    legacy: bool = False

    @property
    def total_change(self) -> int:
        return self.value_after - self.value_before

    @property
    def in_progress(self) -> bool:
        return self.status in ("waiting-acknowledgement", "waiting-confirmation")


@dataclass
class Order:
    order_id: str
    sequence: str
    status: str
    value: int
    items: list[OrderItem]
    creation_date: str
    last_change: str
    client_name: str
    client_email: str
    shipping_value: int
    invoiced_date: str | None = None
    invoiced_visible_at: float | None = None
    status_before_invoiced: str | None = None
    cancellation: Cancellation | None = None
    packages: dict[str, Package] = field(default_factory=dict)
    history: list[StatusMark] = field(default_factory=list)
    start_handling: StartHandlingLog = field(default_factory=StartHandlingLog)
    #: The order's one payment (``paymentData.transactions[].payments[].id``); ``None``: derived from
    #: the order id. A seed or test sets it to match an id it will notify (VTEX's example ids, say).
    payment_id: str | None = None
    #: Every payment notification that reached OMS for this order (repeats included).
    payment_notifications: list[PaymentNotification] = field(default_factory=list)
    #: GET-order reads that hid an invoice VTEX had applied (the visibility delay at work): a test of a
    #: retry reads this to know its retry really met an invoice it could not see yet.
    hidden_reads: int = 0
    #: VTEX's incomplete orders (``isCompleted`` false): they cannot be canceled or modified, and the list
    #: route shows them only with ``incompleteOrders=true``.
    incomplete: bool = False
    #: Sandbox-clock second the order was placed (its grace window and the list index lag count from it).
    placed_at: float = 0.0
    #: Sandbox-clock second from which the list route's index shows the order.
    indexed_at: float = 0.0
    interactions: list[Interaction] = field(default_factory=list)
    cancellation_requests: list[CancellationRequest] = field(default_factory=list)
    changes: list[ChangeRequest] = field(default_factory=list)
    #: The seller denies the next cancellation request with this reason (``VtexSandbox.deny_cancellation``).
    deny_cancellation: str | None = None
    #: The items before the first applied modification (the change summary's ``original``).
    original_items: list[OrderItem] | None = None
    #: On a seller's (franchise, white-label seller) order: the marketplace (main account) order it
    #: fulfils; VTEX then shows ``origin`` ``Fulfillment``. Empty on the store's own orders.
    marketplace_order_id: str = ""
    #: On a marketplace's order: the seller's order id; VTEX's own orders show ``00-{orderId}``.
    seller_order_id: str | None = None

    @property
    def origin(self) -> str:
        """``Fulfillment`` on a seller's order for a marketplace, else ``Marketplace`` (VTEX's values)."""
        return "Fulfillment" if self.marketplace_order_id else "Marketplace"

    @property
    def seller_order(self) -> str:
        return self.seller_order_id or f"00-{self.order_id}"

    @property
    def items_total(self) -> int:
        return sum(i.price * i.quantity for i in self.items)

    @property
    def discounts(self) -> int:
        """Cents the order value lies below its items and shipping (a negative total, as VTEX shows it)."""
        return min(self.value - self.items_total - self.shipping_value, 0)

    def output_total(self) -> int:
        """Cents invoiced by sale (Output) invoices so far."""
        return sum(p.notice.value for p in self.packages.values() if p.notice.kind == "Output")
