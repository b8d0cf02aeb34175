"""The OMS state machine: orders, their invoices, receipts and workflow moves, under one lock.

Everything VTEX would decide about a request lives here or in ``validation``, written from VTEX's
documentation (the Orders API OpenAPI files and the help center), *not* from the provider's own models:
the sandbox must be able to disagree with the client, otherwise it could never catch the client's
mistakes. The book keeps one set of records whatever the data architecture; the contract a body is
checked against and the JSON shape of the answers follow the book's ``architecture``.

All public methods are thread-safe (the HTTP server is threaded). The eventual-consistency delay uses
``time.monotonic`` so it is immune to clock changes.

Workflow moves live in the "writes" section: invoice, tracking, start-handling and cancel each have one
method, and so do the admin API's placement and moves. Every write ends in :meth:`OrderBook._changed`,
which records the order's status history and hands an
:class:`~vtex_sandbox.model.OrderChange` to ``on_change`` (the order feed), still under
the book's lock so that the feed sees the changes in the order they happened.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from vtex_sandbox import modifications, views
from vtex_sandbox.clock import SandboxClock, new_receipt, vtex_now
from vtex_sandbox.errors import (
    CODE_CANNOT_CANCEL,
    CODE_DUPLICATE_INVOICE,
    CODE_FORBIDDEN,
    CODE_INVOICE_TOO_HIGH,
    CODE_NO_TRACKING_NUMBER,
    CODE_WRONG_STATUS,
    SandboxError,
    invoice_not_found,
    order_not_found,
    payment_not_found,
)
from vtex_sandbox.model import (
    MAX_RECEIPT_HISTORY,
    Cancellation,
    CancellationRequest,
    ChangeRequest,
    CourierStatus,
    Interaction,
    InvoiceNotice,
    Order,
    OrderChange,
    OrderItem,
    Package,
    PaymentNotification,
    StatusMark,
)
from vtex_sandbox.seed import build_order, definition_from_invoice
from vtex_sandbox.validation import changes, pii, standard
from vtex_sandbox.validation.common import is_text, parse_date_time, validate_cancel, validate_interaction
from vtex_sandbox.views import changes as change_views
from vtex_sandbox.workflow import check_move, check_status

if TYPE_CHECKING:
    from collections.abc import Callable

#: The state VTEX's feed names as the ``lastState`` of a new order's first event.
PLACED_FROM = "order-created"
#: A stand-in order for trying a feed's JSONata expression when the store has no order yet.
_SAMPLE_ORDER = {
    "orderId": "SAMPLE-01",
    "status": "payment-pending",
    "items": [{"id": "1", "name": "Sample item", "quantity": 1, "price": 1000}],
}

ARCHITECTURES = ("standard", "pii")
_FIRST_SEQUENCE = 502556


def check_architecture(value: object) -> str:
    """The data architecture, or a ``ValueError`` that lists the two VTEX has."""
    if value not in ARCHITECTURES:
        raise ValueError(
            f"data_architecture must be 'standard' (the OMS routes /api/oms/pvt/orders/...) or 'pii' (the "
            f"PII data architecture's routes /api/orders/...), not {value!r}"
        )
    return str(value)


class OrderBook:
    """Orders and their invoices, mutated only under one lock.

    ``invoice_visibility_delay`` plays OMS's eventual consistency: a new package (and the ``invoiced``
    status it may cause) shows in GET order / list orders only that many seconds after the 200. The
    write side is immediately consistent, like VTEX's: a PATCH right after the POST finds the invoice.
    """

    def __init__(
        self,
        definitions: list[dict[str, Any]] | None = None,
        invoice_visibility_delay: float = 0.0,
        auto_create_orders: bool = False,
        architecture: str = "standard",
        on_change: Callable[[OrderChange], None] | None = None,
        *,
        clock: SandboxClock | None = None,
        cancellation_window: float = 0.0,
        change_seconds: float = modifications.DONE_SECONDS,
        list_index_lag: float = 0.0,
    ) -> None:
        self._lock = threading.RLock()
        #: The sandbox clock: change requests, the grace window and the list index lag run on it.
        self.clock = clock or SandboxClock()
        #: Seconds after placement during which a cancellation is the customer's own and is granted at
        #: once; after it, a cancellation is a request the seller may deny (0: no window).
        self.cancellation_window = float(cancellation_window)
        #: Seconds (sandbox clock) a change request takes from the PATCH to ``done``.
        self.change_seconds = float(change_seconds)
        #: Seconds (sandbox clock) before a new order shows in the list route (its search index lags).
        self.list_index_lag = float(list_index_lag)
        self.change_settings: dict[str, dict[str, Any]] = copy.deepcopy(change_views.DEFAULT_SETTINGS)
        #: Days of the marketplace's window to change seller (VTEX's default: 2).
        self.seller_window_days = 2
        #: Told about every change of every order, under the book's lock (the order feed listens).
        self._on_change = on_change
        #: Create an unknown order from its first invoice (items and value taken from the invoice):
        #: a stand-in for a store with more orders than anyone wants to seed (bulk demos, benchmarks).
        self.auto_create_orders = auto_create_orders
        self.architecture = check_architecture(architecture)
        self._definitions: list[dict[str, Any]] = copy.deepcopy(definitions or [])
        self.invoice_visibility_delay = float(invoice_visibility_delay)
        self._orders: dict[str, Order] = {}
        self._sequence = _FIRST_SEQUENCE
        self.reset()

    # -- set-up ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial orders: no invoices, no orders added later."""
        with self._lock:
            self._orders = {}
            self._sequence = _FIRST_SEQUENCE
            self.change_settings = copy.deepcopy(change_views.DEFAULT_SETTINGS)
            self.seller_window_days = 2
            for definition in self._definitions:
                order = self._add(definition)
                # Seed orders were placed long ago: out of any grace window, already in the list's index.
                order.placed_at = order.indexed_at = float("-inf")
                self._mark(order)

    def add_order(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Place (or replace) an order; returns it as GET order shows it.

        A placed order is a change like any other: the feed sees it arrive in its first status, coming
        from ``order-created`` (seed orders, loaded at start and reset, are not announced).
        """
        with self._lock:
            order = self._add(definition)
            order.indexed_at = order.placed_at + self.list_index_lag
            self._changed(order, PLACED_FROM, order.creation_date)
            return self._render(order, time.monotonic(), consistent=True, unmasked=True)

    def _add(self, definition: dict[str, Any]) -> Order:
        self._sequence += 1
        order = build_order(definition, self._sequence)
        order.placed_at = order.indexed_at = self.clock.now()
        self._orders[order.order_id] = order
        return order

    def set_status(self, order_id: str, status: str) -> None:
        """Force an order into ``status``, whatever it was (test set-up; :meth:`move` plays the workflow)."""
        check_status(status)
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            if order.status != status:
                self._set(order, status)

    def move(self, order_id: str, status: str, reason: str | None = None) -> dict[str, str]:
        """Move an order as VTEX's workflow would (``workflow.check_move``: forward, or canceled before it
        is invoiced); ``reason`` is the cancellation reason. ``KeyError`` for an unknown order,
        ``MoveRefused`` for an impossible move."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            previous = order.status
            check_move(order_id, previous, status)
            self._set(order, status, reason)
            return {"orderId": order_id, "status": status, "previousStatus": previous}

    def _set(self, order: Order, status: str, reason: str | None = None) -> None:
        last_state, last_change = order.status, order.last_change
        order.status = status
        order.last_change = vtex_now()
        if status == "invoiced" and order.invoiced_date is None:
            order.invoiced_date = order.last_change
        if status == "canceled" and order.cancellation is None:
            order.cancellation = Cancellation(reason or "", order.last_change, uuid.uuid4().hex)
        self._changed(order, last_state, last_change)

    def order_ids(self) -> list[str]:
        with self._lock:
            return list(self._orders)

    # -- reads -------------------------------------------------------------------------------------

    def get_order(self, order_id: str, *, consistent: bool = False, unmasked: bool = False) -> dict[str, Any]:
        """The order as GET order answers; ``consistent=True`` ignores the visibility delay.

        Like VTEX, ``seq{sequence}`` (e.g. ``seq502557``) also finds an order. ``unmasked`` plays the PII
        route's ``reason`` parameter (the standard route never masks).
        """
        with self._lock:
            order = self._orders.get(order_id)
            if order is None and order_id.startswith("seq"):
                order = next((o for o in self._orders.values() if o.sequence == order_id[3:]), None)
            if order is None:
                raise self._not_found()
            self._settle(order)
            now = time.monotonic()
            if not consistent and any(now < p.visible_at for p in order.packages.values()):
                order.hidden_reads += 1
            return self._render(order, now, consistent=consistent, unmasked=unmasked)

    def hide_invoices(self, order_id: str, seconds: float) -> None:
        """Show the order's invoices (and its ``invoiced`` status) only ``seconds`` from now, as if VTEX
        had just applied them: a test places VTEX's visibility window at a moment of its choosing."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            visible_at = time.monotonic() + float(seconds)
            for package in order.packages.values():
                package.visible_at = visible_at
            if order.invoiced_visible_at is not None:
                order.invoiced_visible_at = visible_at

    def list_orders(
        self,
        page: int,
        per_page: int,
        statuses: set[str],
        *,
        created: tuple[str, str] | None = None,
        incomplete: bool = False,
        ascending: bool = False,
        client_email: str | None = None,
    ) -> dict[str, Any]:
        """List orders, newest first (``ascending``: oldest first); ``per_page`` is capped at 100 as VTEX
        does. ``created`` is the inclusive range of creation dates (VTEX time stamps), ``incomplete``
        lists VTEX's incomplete orders instead of the complete ones. An order shows only once the list's
        index has it (``list_index_lag`` seconds after it was placed)."""
        per_page = min(per_page, 100)
        now = time.monotonic()
        with self._lock:
            self._settle_all()
            index_now = self.clock.now()
            visible = [
                (o, views.Visible.of(o, now, hide_recent=True))
                for o in self._orders.values()
                if o.indexed_at <= index_now
                and o.incomplete == incomplete
                and (client_email is None or o.client_email.casefold() == client_email.casefold())
            ]
        if statuses:
            visible = [(o, v) for o, v in visible if v.status in statuses]
        if created is not None:
            low, high = created
            visible = [(o, v) for o, v in visible if low <= (parse_date_time(o.creation_date) or "") <= high]
        visible.sort(key=lambda pair: parse_date_time(pair[0].creation_date) or "", reverse=not ascending)
        render = views.pii_order_list if self.architecture == "pii" else views.standard_order_list
        return render(visible, page, per_page)

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """Every package of the order (visible or not) with the sandbox's receipt history."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return [views.package_admin_view(p, self.architecture) for p in order.packages.values()]

    def summary(self) -> dict[str, Any]:
        """Compact, printable state of every order (ignores the visibility delay)."""
        with self._lock:
            return {order.order_id: views.order_summary(order) for order in self._orders.values()}

    def sample_document(self) -> dict[str, Any]:
        """An order as GET order shows it, to try a feed's JSONata expression on: the store's first order,
        or a stand-in when it has none."""
        with self._lock:
            order = next(iter(self._orders.values()), None) or build_order(_SAMPLE_ORDER, 0)
            return self._render(order, time.monotonic(), consistent=True, unmasked=True)

    def timeline(self, order_id: str | None = None) -> dict[str, Any]:
        """When each order reached each status, and its start-handling calls (one order, or all)."""
        with self._lock:
            if order_id is not None:
                order = self._orders.get(order_id)
                if order is None:
                    raise KeyError(order_id)
                return views.order_timeline(order)
            return {o.order_id: views.order_timeline(o) for o in self._orders.values()}

    def workflow_stats(self) -> dict[str, Any]:
        """Start-handling across the store: calls, orders started more than once, waiting times."""
        with self._lock:
            return views.workflow_stats(list(self._orders.values()))

    def invoice_counts(self) -> dict[str, dict[str, Any]]:
        """Per order with invoices: invoices held, receipts issued and the numbers sent more than once."""
        with self._lock:
            return {
                order.order_id: views.invoice_counts(order)
                for order in self._orders.values()
                if order.packages
            }

    # -- writes ------------------------------------------------------------------------------------

    def invoice(self, order_id: str, body: Any) -> dict[str, str]:
        """POST invoice: validate against the architecture's contract, then record (or re-receipt)."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None and self.auto_create_orders:
                definition = definition_from_invoice(order_id, body, self.architecture)
                if definition is not None:
                    try:
                        order = self._add(definition)
                    except ValueError:
                        order = None
                    else:
                        self._changed(order, PLACED_FROM, order.creation_date)
            if order is None:
                raise self._not_found()
            contract = pii if self.architecture == "pii" else standard
            notice = contract.validate_invoice(body, order)
            last_state, last_change = order.status, order.last_change
            if order.status == "canceled":
                raise SandboxError(
                    400, CODE_WRONG_STATUS, "Order status should not be canceled to perform this action"
                )
            now_iso, receipt = vtex_now(), new_receipt()
            existing = order.packages.get(notice.number)
            if existing is not None:
                if self.architecture == "pii":
                    raise SandboxError(
                        409,
                        CODE_DUPLICATE_INVOICE,
                        f"Invoice {notice.number} was already sent for order {order_id}: the PII route does "
                        "not allow the same invoiceNumber in more than one request (VTEX documents it). "
                        "Read the order (GET /api/orders/pvt/document/{orderId}) to confirm it instead.",
                    )
                # VTEX: "a new receipt code is generated, and it overrides the previous one ... you
                # cannot change other information, only the receipt code."
                existing.receipt = receipt
                existing.receipts.append({"receipt": receipt, "date": now_iso})
                del existing.receipts[:-MAX_RECEIPT_HISTORY]
            else:
                self._add_package(order, notice, receipt, now_iso)
            order.last_change = now_iso
            self._changed(order, last_state, last_change)
            return {"date": now_iso, "orderId": order_id, "receipt": receipt}

    def _add_package(self, order: Order, notice: InvoiceNotice, receipt: str, now_iso: str) -> None:
        fully_invoiced = order.output_total() >= order.value
        if notice.kind == "Output":
            already = order.output_total()
            if already + notice.value > order.value:
                # Implied by VTEX known issue 1348894 (over-value invoices are a bug when they get
                # through); the message is invented.
                raise SandboxError(
                    400,
                    CODE_INVOICE_TOO_HIGH,
                    f"Invoice value {notice.value} plus already invoiced {already} exceeds the order "
                    f"value {order.value}",
                )
        visible_at = time.monotonic() + self.invoice_visibility_delay
        order.packages[notice.number] = Package(
            notice=notice,
            visible_at=visible_at,
            receipt=receipt,
            last_change=now_iso,
            courier=notice.courier,
            tracking_number=notice.tracking_number,
            tracking_url=notice.tracking_url,
            dispatched_date=notice.dispatched_date,
            # VTEX: a return invoice refunds only once the whole order was invoiced ("otherwise no
            # refund will occur").
            refund=notice.value if notice.kind == "Input" and fully_invoiced else None,
            receipts=[{"receipt": receipt, "date": now_iso}],
        )
        self._maybe_invoiced(order, now_iso, visible_at)

    def tracking_number(self, order_id: str, invoice_number: str, body: Any) -> dict[str, str]:
        """PATCH invoice: attach tracking number, URL, courier, dispatch date (standard route set)."""
        with self._lock:
            package = self._package(order_id, invoice_number)
            last_change = self._orders[order_id].last_change
            changes = standard.validate_tracking_number(body)
            package.tracking_number = changes["trackingNumber"]
            if "trackingUrl" in changes:
                package.tracking_url = changes["trackingUrl"]
            if "courier" in changes:
                package.courier = changes["courier"]
            if "dispatchedDate" in changes:
                package.dispatched_date = changes["dispatchedDate"]
            return self._tracking_receipt(order_id, package, "tracking_number", last_change)

    def tracking_status(self, order_id: str, invoice_number: str, body: Any) -> dict[str, str]:
        """PUT invoice tracking: tracking events and the delivered flag (standard route set)."""
        with self._lock:
            package = self._package(order_id, invoice_number)
            last_change = self._orders[order_id].last_change
            if not is_text(package.tracking_number):
                raise SandboxError(
                    400,
                    CODE_NO_TRACKING_NUMBER,
                    "The invoice has no tracking number: send the tracking number first (PATCH)",
                )
            now_iso = vtex_now()
            delivered, delivered_date, events = standard.validate_tracking_status(body, now_iso)
            package.courier_status = CourierStatus(delivered, delivered_date, events)
            return self._tracking_receipt(order_id, package, "tracking_status", last_change)

    def start_handling(self, order_id: str) -> None:
        """Start handling: ``ready-for-handling`` -> ``handling`` (VTEX answers 204), else 409 OMS003.

        Every call is recorded on the order (how many, when, how many were accepted): a load test asks how
        long orders waited in ready-for-handling and whether any was started twice.
        """
        with self._lock:
            order = self._existing(order_id)
            log, call = order.start_handling, _mark_now(order.status)
            log.calls += 1
            log.first_call = log.first_call or call
            if order.status != "ready-for-handling":
                raise SandboxError(
                    409, CODE_WRONG_STATUS, "Order status should be ready-for-handling to perform this action"
                )
            log.accepted += 1
            log.first_accepted = log.first_accepted or call
            self._set(order, "handling")

    def notify_payment(self, order_id: str, payment_id: str) -> None:
        """Payment notification: the store says a payment of the order was received (a bank slip paid,
        say). VTEX answers 200 without a body, and 404 for an unknown order or payment.

        An order waiting in ``payment-pending`` moves to ``payment-approved`` (the feed sees it); in any
        other status it stays where it is. VTEX documents nothing about a repeated notification (no 409
        in either OpenAPI file), so a repeat is answered 200 again and recorded like the first: a test
        counts them in :meth:`payment_notifications` to learn whether a client sent one twice.
        """
        with self._lock:
            order = self._existing(order_id)
            if payment_id != views.order_payment_id(order):
                raise payment_not_found(order_id, payment_id)
            order.payment_notifications.append(PaymentNotification(payment_id, vtex_now(), order.status))
            del order.payment_notifications[:-MAX_RECEIPT_HISTORY]
            if order.status == "payment-pending":
                self._set(order, "payment-approved")

    def payment_notifications(self, order_id: str) -> list[dict[str, str]]:
        """Every payment notification the order received: ``{"paymentId", "date", "statusBefore"}``."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return [
                {"paymentId": n.payment_id, "date": n.at, "statusBefore": n.status_before}
                for n in order.payment_notifications
            ]

    def cancel(self, order_id: str, body: Any) -> dict[str, str]:
        """Cancel, with VTEX's rules (the CancelOrder operation's description):

        * refused (400) for incomplete, invoiced and partially invoiced orders -- an invoiced order takes a
          return (Input) invoice instead;
        * inside the order's grace window (``cancellation_window`` seconds from placement) the cancellation
          is granted at once; after it, it is a request the seller may deny
          (:meth:`deny_next_cancellation`): VTEX still answers 200 (it received the request), the order
          stays where it was and ``cancellationRequests`` shows the denial -- read the order back;
        * canceling an order that is already canceled answers 200 again (a retried cancel must not fail).
        """
        reason = validate_cancel(body)
        with self._lock:
            order = self._existing(order_id)
            if order.incomplete:
                raise SandboxError(
                    400,
                    CODE_CANNOT_CANCEL,
                    "Incomplete orders cannot be canceled (VTEX never completed them)",
                )
            if order.status == "invoiced":
                raise SandboxError(
                    400,
                    CODE_CANNOT_CANCEL,
                    "Orders with invoiced status cannot be canceled: send a return (Input) invoice instead",
                )
            if order.status != "canceled" and order.output_total() > 0:
                raise SandboxError(
                    400,
                    CODE_CANNOT_CANCEL,
                    "Partially invoiced orders cannot be canceled (the customer may change the order instead)",
                )
            now_iso, receipt = vtex_now(), new_receipt()
            if order.status == "canceled":
                order.last_change = now_iso
                return {"date": now_iso, "orderId": order_id, "receipt": receipt}
            in_window = self.clock.now() - order.placed_at < self.cancellation_window
            denial = order.deny_cancellation
            if not in_window and denial is not None:
                last_change = order.last_change
                order.deny_cancellation = None
                order.cancellation_requests.append(
                    CancellationRequest(receipt, reason or "", now_iso, True, denial or None, now_iso)
                )
                order.last_change = now_iso
                self._changed(order, order.status, last_change)
                return {"date": now_iso, "orderId": order_id, "receipt": receipt}
            if not in_window and self.cancellation_window > 0:
                order.cancellation_requests.append(CancellationRequest(receipt, reason or "", now_iso, False))
            self._set(order, "canceled", reason)
            return {"date": order.last_change, "orderId": order_id, "receipt": receipt}

    def deny_next_cancellation(self, order_id: str, reason: str = "") -> None:
        """The seller will deny the next cancellation request of the order (one that arrives after its
        grace window); ``KeyError`` if the order is unknown."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            order.deny_cancellation = reason

    # -- the order's log, groups, payments, conversation ---------------------------------------------

    def add_interaction(self, order_id: str, body: Any) -> None:
        """AddLog: one line in the order's log (the Admin's order history). Every call adds a line: VTEX
        documents no key to recognise a repeat, so a client that must log once reads the log first."""
        source, message = validate_interaction(body)
        with self._lock:
            order = self._existing(order_id)
            order.interactions.append(Interaction(new_receipt(), source, message, vtex_now()))
            del order.interactions[:-MAX_RECEIPT_HISTORY]

    def interactions(self, order_id: str) -> list[dict[str, str]]:
        """The order's log as the Admin shows it, oldest first (``KeyError`` if unknown)."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return [
                {"id": i.id, "source": i.source, "message": i.message, "date": i.date}
                for i in order.interactions
            ]

    def order_group(self, group: str) -> list[dict[str, Any]]:
        """GET order-group: every order of one purchase (split between sellers: ``-01``, ``-02``...)."""
        with self._lock:
            found = [o for o in self._orders.values() if views.order_group_of(o) == group]
            if not found:
                raise self._not_found()
            now = time.monotonic()
            for order in found:
                self._settle(order)
            return [self._render(o, now, consistent=False, unmasked=True) for o in found]

    def payment_transaction(self, order_id: str) -> dict[str, Any]:
        """GET payment-transaction: the order's one transaction, at the order's current value."""
        with self._lock:
            return views.payment_transaction(self._existing(order_id))

    def conversation(self, order_id: str) -> list[dict[str, Any]]:
        """GET conversation-message: the e-mails VTEX's conversation tracker sent about the order."""
        with self._lock:
            return views.conversation(self._existing(order_id))

    # -- order modifications ---------------------------------------------------------------------------

    def create_change(
        self, order_id: str, body: Any, *, preview: bool = False, request_id: str | None = None
    ) -> dict[str, Any]:
        """PATCH .../changes (202, processed on the sandbox clock) or POST .../changes/preview (200, no
        effect): see :mod:`vtex_sandbox.modifications` for VTEX's rules. ``request_id`` names the request
        instead of a random UUID (a test's set-up that must know it in advance)."""
        parsed = changes.parse_change(body)
        with self._lock:
            order = self._existing(order_id)
            self._check_api_enabled()
            modifications.check_modifiable(order)
            request = modifications.plan(
                order, parsed, self._catalog(), self.clock.now(), self.change_seconds
            )
            if request_id is not None:
                request.request_id = request_id
            if not preview:
                order.changes.append(request)
                self._settle(order)
            return change_views.change_request(order, request, self.change_settings, preview=preview)

    def legacy_change(self, order_id: str, body: Any) -> dict[str, str]:
        """The deprecated "Register modifications": applied at once; the client's ``requestId`` makes a
        repeat harmless (the same receipt, no second change)."""
        parsed = changes.parse_legacy_change(body)
        request_id = body["requestId"] if isinstance(body, dict) and "requestId" in body else None
        with self._lock:
            order = self._existing(order_id)
            for earlier in order.changes:
                if earlier.legacy and earlier.request_id == request_id:
                    return {"date": earlier.date, "orderId": order_id, "receipt": earlier.workflow_id}
            modifications.check_modifiable(order)
            request = modifications.plan(order, parsed, self._catalog(), self.clock.now(), 0.0, legacy=True)
            if isinstance(request_id, str):
                request.request_id = request_id
            order.changes.append(request)
            self._settle(order)
            return {"date": request.date, "orderId": order_id, "receipt": request.workflow_id}

    def change_history(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return change_views.history(self._existing(order_id), self.change_settings)

    def change_detail(self, order_id: str, request_id: str) -> dict[str, Any]:
        with self._lock:
            order, request = self._change(order_id, request_id)
            return change_views.change_request(order, request, self.change_settings, detail=True)

    def retry_change(self, order_id: str, request_id: str, body: Any) -> None:
        changes.parse_retry_or_cancel(body)
        with self._lock:
            order, request = self._change(order_id, request_id)
            modifications.retry(request, self.clock.now(), self.change_seconds)
            self._settle(order)

    def cancel_change(self, order_id: str, request_id: str, body: Any) -> None:
        reason = changes.parse_retry_or_cancel(body)
        with self._lock:
            _, request = self._change(order_id, request_id)
            modifications.cancel(request, reason)

    def fail_changes(self, order_id: str) -> None:
        """The order's change requests in progress stop on an error when they come due (a test's way to
        reach retry and cancel); ``KeyError`` if the order is unknown."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            for request in order.changes:
                if request.in_progress:
                    request.fail = True
            self._settle(order)

    def change_summary(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return change_views.summary(self._existing(order_id))

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.change_settings)

    def update_settings(self, body: Any) -> dict[str, Any]:
        parsed = changes.parse_settings(body)
        with self._lock:
            for section, values in parsed.items():
                self.change_settings[section].update(values)
            if parsed:
                self.change_settings["rolloutConfiguration"]["usingDefaultBehavior"] = False
            return copy.deepcopy(self.change_settings)

    def update_seller_window(self, body: Any) -> None:
        days = changes.parse_seller_window(body)
        with self._lock:
            self.seller_window_days = days

    def settle_all(self) -> None:
        """Bring every change request up to the sandbox clock (after :meth:`SandboxClock.advance`)."""
        with self._lock:
            self._settle_all()

    def _settle_all(self) -> None:
        for order in self._orders.values():
            if order.changes:
                self._settle(order)

    def _settle(self, order: Order) -> None:
        """Apply the change requests of ``order`` that came due on the sandbox clock (under the lock)."""
        now = self.clock.now()
        for request in order.changes:
            if not modifications.due(request, now):
                continue
            before, last_change = list(order.items), order.last_change
            if modifications.finish(order, request):
                if order.original_items is None:
                    order.original_items = before
                order.last_change = vtex_now()
                self._changed(order, order.status, last_change)

    def _change(self, order_id: str, request_id: str) -> tuple[Order, ChangeRequest]:
        order = self._existing(order_id)
        request = next((c for c in order.changes if c.request_id == request_id and not c.legacy), None)
        if request is None:
            raise modifications.change_not_found(order_id, request_id)
        return order, request

    def _catalog(self) -> list[OrderItem]:
        return [item for order in self._orders.values() for item in order.items]

    def _check_api_enabled(self) -> None:
        if not self.change_settings["rolloutConfiguration"].get("enableApi", True):
            raise SandboxError(
                403,
                CODE_FORBIDDEN,
                "Order modifications through the API are disabled for this account "
                "(settings: rolloutConfiguration.enableApi is false)",
            )

    # -- helpers -----------------------------------------------------------------------------------

    def _not_found(self) -> SandboxError:
        return order_not_found(hint=not self.auto_create_orders)

    def _existing(self, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise self._not_found()
        self._settle(order)
        return order

    def _package(self, order_id: str, invoice_number: str) -> Package:
        package = self._existing(order_id).packages.get(invoice_number)
        if package is None:
            raise invoice_not_found()
        return package

    def _tracking_receipt(
        self, order_id: str, package: Package, operation: str, last_change: str
    ) -> dict[str, str]:
        now_iso, receipt = vtex_now(), new_receipt()
        package.tracking_receipts.append({"operation": operation, "receipt": receipt, "date": now_iso})
        del package.tracking_receipts[:-MAX_RECEIPT_HISTORY]
        package.last_change = now_iso
        order = self._orders[order_id]
        order.last_change = now_iso
        self._changed(order, order.status, last_change)
        return {"date": now_iso, "orderId": order_id, "receipt": receipt}

    def _changed(self, order: Order, last_state: str, last_change: str) -> None:
        """Record and announce one change of ``order``, already applied (call it under the lock)."""
        if order.status != last_state:
            self._mark(order)
        if self._on_change is None:
            return
        self._on_change(
            OrderChange(
                order_id=order.order_id,
                last_state=last_state,
                state=order.status,
                last_change=last_change,
                current_change=order.last_change,
                document=lambda: self._render(order, time.monotonic(), consistent=True, unmasked=True),
            )
        )

    @staticmethod
    def _mark(order: Order) -> None:
        order.history.append(_mark_now(order.status))
        del order.history[:-MAX_RECEIPT_HISTORY]

    @staticmethod
    def _maybe_invoiced(order: Order, now_iso: str, visible_at: float) -> None:
        """Move to ``invoiced`` once the Output invoices reach the order value (VTEX's rule)."""
        if order.status in ("invoiced", "canceled"):
            return
        if order.output_total() >= order.value:
            order.status_before_invoiced = order.status
            order.status = "invoiced"
            order.invoiced_date = now_iso
            order.invoiced_visible_at = visible_at

    def _render(self, order: Order, now: float, *, consistent: bool, unmasked: bool) -> dict[str, Any]:
        visible = views.Visible.of(order, now, hide_recent=not consistent)
        if self.architecture == "pii":
            return views.pii_order(order, visible, masked=not unmasked)
        return views.standard_order(order, visible)


def _mark_now(status: str) -> StatusMark:
    return StatusMark(status, vtex_now(), time.time(), time.monotonic())
