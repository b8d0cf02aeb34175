"""The order's other operations on :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`: reading (order
groups, payment transactions, conversations, the change summary, the shopper-facing order routes, any
creation-date range past the list's cap), the order's log, cancelling once, and the account settings
around orders (the JSONata test of a feed filter, the window to change seller).

Each method checks its route values and body before any request and goes through the hook's ``_call``
(rate cap, retries, scrubbing, typed errors). What "once" means is in each write's docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.client.invoice_once import CANCELED_STATUSES
from airflow_provider_vtex.client.order_slices import MAX_PER_PAGE, Window, as_utc, read_range
from airflow_provider_vtex.client.routes import check_route_values
from airflow_provider_vtex.exceptions import VtexPayloadError, VtexStatusNotAllowedError
from airflow_provider_vtex.models.orders import Interaction, JsonataTest, SellerWindow
from airflow_provider_vtex.models.results import OrderList, Outcome

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping


#: Statuses in which VTEX refuses a cancellation for good (an invoice exists, or the order never
#: completed), with what to do instead.
NOT_CANCELABLE = {
    "invoiced": "send a return invoice (type 'Input') for what comes back instead "
    "(VtexInvoiceOperator / VtexHook.send_invoice)",
    "invoice": "it is being invoiced: send a return invoice (type 'Input') once it is invoiced instead",
    "incomplete": "an incomplete order is never cancelled through the API; VTEX discards it",
}


if TYPE_CHECKING:
    from airflow_provider_vtex.hooks.face import HookFace as _Hook
else:
    _Hook = object


class OrdersMixin(_Hook):
    """The order reads, the order's log and the account's order settings of the hook."""

    # ------------------------------------------------------------------ reads
    def get_order_group(self, order_group: str) -> list[dict[str, Any]]:
        """The orders of one purchase split between sellers: ``GET /api/oms/pvt/orders/order-group/{orderGroup}``
        (an order's ``orderGroup``: its id without the ``-01`` suffix)."""
        group = check_route_values(order_group=order_group)["order_group"]
        answer = self._call("get_order_group", order_group=group)
        return (
            [order for order in answer or [] if isinstance(order, dict)] if isinstance(answer, list) else []
        )

    def get_payment_transaction(self, order_id: str) -> dict[str, Any]:
        """The order's payment transaction (reconciliation): ``GET .../orders/{orderId}/payment-transaction``."""
        answer = self._call("get_payment_transaction", order_id=self.checked_order_id(order_id))
        return answer if isinstance(answer, dict) else {}

    def get_conversation(self, order_id: str) -> list[dict[str, Any]]:
        """The messages VTEX exchanged with the customer about the order:
        ``GET .../orders/{orderId}/conversation-message``."""
        answer = self._call("get_conversation", order_id=self.checked_order_id(order_id))
        return [m for m in answer if isinstance(m, dict)] if isinstance(answer, list) else []

    def get_change_summary(self, order_id: str) -> dict[str, Any]:
        """What modifications changed on the order (PII's summary, ``GET /api/orders/pvt/document/{orderId}/change-summary``)."""
        answer = self._call("get_change_summary", order_id=self.checked_order_id(order_id))
        return answer if isinstance(answer, dict) else {}

    def list_user_orders(self, **filters: Any) -> OrderList:
        """One page of a shopper's orders (``clientEmail``, ``page``, ``per_page``...): ``GET /api/oms/user/orders``."""
        _check_per_page(filters.get("per_page"))
        return OrderList.from_answer(self._call("list_user_orders", params=filters), "/api/oms/user/orders")

    def get_user_order(self, order_id: str, client_email: str | None = None) -> dict[str, Any]:
        """One order as its shopper sees it: ``GET /api/oms/user/orders/{orderId}``."""
        params = {"clientEmail": client_email} if client_email else None
        answer = self._call("get_user_order", params=params, order_id=self.checked_order_id(order_id))
        return answer if isinstance(answer, dict) else {}

    def iter_orders(
        self,
        start: dt.datetime | str,
        end: dt.datetime | str,
        *,
        per_page: int = MAX_PER_PAGE,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every order created in ``[start, end]`` (aware datetimes or ISO 8601 text) once each, in
        creation-date windows cut where the list's 30-page cap would cut the range
        (:mod:`~airflow_provider_vtex.client.order_slices`). ``filters`` are the list's other filters
        (``f_status``...). Order summaries, as the list gives them; memory stays bounded for any range.

        The list is an index minutes behind the orders: orders of the last minutes may be missing.
        """
        _check_per_page(per_page)
        if "f_creationDate" in filters or "page" in filters:
            raise VtexPayloadError(
                "order range",
                [("filters", "f_creationDate and page are set by iter_orders: give start and end instead")],
            )
        first, last = as_utc(start, "start"), as_utc(end, "end")

        def fetch(window: Window, page: int) -> OrderList:
            query = {
                **filters,
                "f_creationDate": window.creation_date_filter,
                "orderBy": "creationDate,asc",
                "page": page,
                "per_page": per_page,
            }
            return self.list_orders(**query)

        def report(window: Window, total: int) -> None:
            self.log.info("Reading %d orders of %s.", total, window.creation_date_filter)

        return read_range(fetch, first, last, per_page=per_page, on_window=report)

    # ------------------------------------------------------------------ the order's log
    def add_interaction(self, order_id: str, line: Interaction | Mapping[str, Any] | str) -> None:
        """Add a line to the order's log (the Admin's order history): ``POST .../orders/{orderId}/interactions``.

        **Once?** At least once: VTEX offers no way to read the log back, and a line repeated after a lost
        answer is better than a step missing from it, so the call is retried after timeouts and 5xx like a
        read; a line can then appear twice.
        """
        body = Interaction.parse(line).to_wire()
        self._call("add_interaction", json_body=body, order_id=self.checked_order_id(order_id))

    # ------------------------------------------------------------------ cancelling once
    def cancel_order_once(
        self, order_id: str, reason: str | None = None, *, check_first: bool = True
    ) -> tuple[Outcome, str | None]:
        """Cancel the order unless it is canceled already or cannot be: ``(outcome, status after)``.

        With ``check_first`` the order is read first: a canceled (or cancellation-requested) order is
        ``Outcome.ALREADY_APPLIED`` and nothing is sent; an invoiced order, one being invoiced, or an
        incomplete one raises :class:`~airflow_provider_vtex.exceptions.VtexStatusNotAllowedError` (VTEX
        refuses those for good; an invoiced order takes a return invoice); an order with invoices on it
        (partially invoiced) too. Otherwise :meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.cancel_order`
        sends it once (read back after a lost answer). VTEX may decline a cancellation asked inside the
        order's grace window: the status after says where the order is.
        """
        order_id = self.checked_order_id(order_id)
        order: dict[str, Any]
        if check_first:
            order = self.get_order(order_id)
            status = str(order.get("status"))
            if status in CANCELED_STATUSES:
                return Outcome.ALREADY_APPLIED, status
            refused = NOT_CANCELABLE.get(status)
            packages = (order.get("packageAttachment") or {}).get("packages") or []
            if refused is None and any(
                isinstance(p, dict) and p.get("type", "Output") == "Output" for p in packages
            ):
                status, refused = (
                    f"{status}, partially invoiced",
                    "VTEX cannot cancel a partially invoiced order: send a return invoice (type 'Input') for "
                    "what was invoiced, or modify the order (VtexOrderModificationOperator) to remove the rest",
                )
            if refused is not None:
                raise VtexStatusNotAllowedError(
                    f"Order {order_id} is '{status}': VTEX refuses to cancel it. Nothing was sent; {refused}.",
                    order_id=order_id,
                    status=status,
                )
        receipt = self.cancel_order(order_id, reason)
        order = self.get_order(order_id)
        after = str(order.get("status"))
        self.log.info(
            "Cancellation of order %s: receipt %s; the order is '%s'.", order_id, receipt.receipt, after
        )
        requests = [r for r in order.get("cancellationRequests") or [] if isinstance(r, dict)]
        if after not in CANCELED_STATUSES and requests and requests[-1].get("deniedBySeller"):
            denial = requests[-1].get("deniedBySellerReason") or "no reason given"
            raise VtexStatusNotAllowedError(
                f"VTEX received the cancellation of order {order_id} (outside the order's grace window, so the "
                f"seller decides) and the seller denied it ({denial}): the order is still '{after}'. Ask the "
                "seller, or cancel again once they agree.",
                order_id=order_id,
                status=after,
            )
        return Outcome.SENT, after

    # ------------------------------------------------------------------ account settings around orders
    def test_jsonata(self, expression: str, document: Mapping[str, Any] | str) -> Any:
        """VTEX's evaluation of a feed filter's JSONata ``expression`` against an order ``document``:
        ``POST /api/orders/expressions/jsonata``. Changes nothing."""
        body = JsonataTest.parse({"Expression": expression, "Document": document}).to_wire()
        return self._call("test_jsonata", json_body=body)

    def get_seller_window(self) -> Any:
        """The window to change seller as VTEX answers it (a number):
        ``GET /api/checkout/pvt/configuration/window-to-change-seller``."""
        return self._call("get_seller_window")

    def set_seller_window(self, waiting_time: int) -> None:
        """Set the window to change seller (``POST``; the same value twice leaves the same setting)."""
        self._call("set_seller_window", json_body=SellerWindow.parse({"waitingTime": waiting_time}).to_wire())


def _check_per_page(per_page: Any) -> None:
    if per_page is not None and not (
        isinstance(per_page, int) and not isinstance(per_page, bool) and 1 <= per_page <= MAX_PER_PAGE
    ):
        raise VtexPayloadError(
            "order list filters",
            [("per_page", f"must be 1 to {MAX_PER_PAGE} (VTEX's limit); got {per_page!r}")],
        )
