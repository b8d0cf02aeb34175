"""What the hook's calls return: typed results instead of VTEX's raw dicts and magic keys.

Modelled on dbt Cloud's run-status enum: an :class:`Outcome` says how an invoice call ended, so callers
branch on a value, not on which keys a dict happens to carry.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_vtex.exceptions import VtexUnexpectedResponseError, json_kind
from airflow_provider_vtex.models.types import MAX_ID_LENGTH, is_path_safe


class Outcome(str, enum.Enum):
    """How a write ended.

    * ``SENT``: VTEX accepted it now and answered with a receipt.
    * ``ALREADY_INVOICED``: VTEX already held it before this call (found by reading the order first),
      so nothing was sent.
    * ``CONFIRMED_BY_READ_BACK``: the answer to the request was lost (timeout, dropped connection, 5xx),
      and reading the order back showed VTEX had applied it; it was not sent again.
    * ``ALREADY_PAID``: a payment notification not sent, because the order read first was already past
      ``payment-pending`` (its payment approved).
    * ``ALREADY_APPLIED``: a write not sent, because reading first showed it done: an order modification
      with the same reason in the order's history, a cancellation of an order already canceled.

    The tasks report these too, with the outcomes of their own (one enum, so a result's ``outcome`` is
    spelled once): bulk invoicing's ``INVALID`` (refused before sending), ``FAILED`` and ``NOT_TRIED``
    (stopped by the outage breaker); start-handling's ``STARTED`` (its ``SENT``), ``ALREADY_HANDLING``
    and ``NOT_READY``.
    """

    SENT = "sent"
    ALREADY_INVOICED = "already_invoiced"
    ALREADY_PAID = "already_paid"
    ALREADY_APPLIED = "already_applied"
    CONFIRMED_BY_READ_BACK = "confirmed_by_read_back"
    INVALID = "invalid"
    FAILED = "failed"
    NOT_TRIED = "not_tried"
    STARTED = "started"
    ALREADY_HANDLING = "already_handling"
    NOT_READY = "not_ready"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class InvoiceResult:
    """The result of :meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.send_invoice`.

    ``receipt`` and ``date`` are VTEX's answer to the POST; they are ``None`` unless ``outcome`` is
    ``SENT`` (VTEX's GET order does not show the receipt of an invoice).
    """

    order_id: str
    invoice_number: str
    outcome: Outcome
    receipt: str | None = None
    date: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        """The JSON-serialisable form operators push to XCom."""
        return {
            "order_id": self.order_id,
            "invoice_number": self.invoice_number,
            "outcome": self.outcome.value,
            "receipt": self.receipt,
            "date": self.date,
        }


@dataclass(frozen=True)
class Receipt:
    """VTEX's answer to a write: ``{date, orderId, receipt}`` (tracking, cancel)."""

    order_id: str
    receipt: str | None
    date: str | None

    @classmethod
    def from_answer(cls, answer: Any, order_id: str) -> Receipt:
        body = answer if isinstance(answer, dict) else {}
        receipt, date = body.get("receipt"), body.get("date")
        return cls(
            order_id=str(body.get("orderId") or order_id),
            receipt=None if receipt is None else str(receipt),
            date=None if date is None else str(date),
        )

    def to_xcom(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "receipt": self.receipt, "date": self.date}


@dataclass(frozen=True)
class UnreadableListedOrder:
    """An entry of an order list the provider could not read (not an object, no usable ``orderId``), set
    aside so the rest of the page goes on. The entry's body is never kept (it may quote anything)."""

    position: int
    problem: str


@dataclass(frozen=True)
class OrderList:
    """One page of VTEX's order list: order summaries (no items: read an order for those), paging and
    statistics. The list is index-backed and lags behind GET order: use it to discover orders, never to
    check a write.

    An entry without a usable ``orderId`` is set aside in ``unreadable`` (the hook reports it), so every
    id in :attr:`order_ids` is one the order routes take.
    """

    orders: list[dict[str, Any]]
    paging: dict[str, Any]
    stats: dict[str, Any]
    unreadable: list[UnreadableListedOrder] = field(default_factory=list)

    @classmethod
    def from_answer(cls, answer: Any, path: str = "the order list", method: str = "GET") -> OrderList:
        """The page in VTEX's answer; a body that is not ``{"list": [...], ...}`` is an error (a gateway or
        a changed API answered), never read as an empty page."""
        body = answer if isinstance(answer, dict) else None
        entries = body.get("list", []) if body is not None else None
        if body is None or not isinstance(entries, list):
            came = "a JSON object whose 'list' is not a list" if body is not None else json_kind(answer)
            raise VtexUnexpectedResponseError(
                f"VTEX answered {method} {path} with 200 but {came}, where it answers an object with a 'list' of "
                "orders: a gateway or cache answered instead of VTEX's OMS, or its answer changed.",
                http_status=200,
                method=method,
                path=path,
            )
        orders: list[dict[str, Any]] = []
        unreadable: list[UnreadableListedOrder] = []
        for position, order in enumerate(entries):
            order_id = order.get("orderId") if isinstance(order, dict) else None
            if isinstance(order, dict) and is_path_safe(order_id):
                orders.append(order)
                continue
            problem = (
                f"is {json_kind(order)}, not an order object"
                if not isinstance(order, dict)
                else "has no orderId"
                if order_id is None
                else "has an orderId the order routes cannot take (not text of letters, digits, '.', '-', "
                f"'_', at most {MAX_ID_LENGTH} characters)"
            )
            unreadable.append(UnreadableListedOrder(position, problem))
        return cls(
            orders=orders,
            paging=dict(_mapping(body.get("paging"))),
            stats=dict(_mapping(body.get("stats"))),
            unreadable=unreadable,
        )

    @property
    def order_ids(self) -> list[str]:
        return [str(order.get("orderId")) for order in self.orders]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ChangeResult:
    """The result of :meth:`~airflow_provider_vtex.hooks.changes.ChangesMixin.create_change`: the change
    request VTEX holds for the modification (``change_request_id``; ``None`` only when the answer was lost
    and the history does not name it), how the call ended, and the request's status when known."""

    order_id: str
    change_request_id: str | None
    outcome: Outcome
    status: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "change_request_id": self.change_request_id,
            "outcome": self.outcome.value,
            "status": self.status,
        }
