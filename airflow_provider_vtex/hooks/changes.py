"""Order modifications (VTEX's order modifications v2) on :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`:
preview, apply once, follow the change request, retry or cancel it, and the account's settings.

A modification is asynchronous: VTEX answers the PATCH with 202 and a change request id, then moves the
request through ``waiting-acknowledgement`` and ``waiting-confirmation`` to ``done`` (or ``canceled``);
the order's items and totals change when it is done. VTEX accepts a modification only while the order is
``handling``, ``waiting-for-fulfillment`` or ready for invoicing, and not once its payment transaction is
finished.

**Once.** VTEX does not deduplicate the PATCH: each one creates a change request, so a repeat would
remove the item twice. This provider's key for a modification is its ``reason`` (required, and unique
per modification: put the ERP's ticket in it): :meth:`ChangesMixin.create_change` reads the order's
modification history first and sends nothing if a request with that reason is there, and after an
ambiguous answer (timeout, dropped connection, 5xx) it reads the history back until VTEX's visibility
window has passed, through the write-once engine (:mod:`~airflow_provider_vtex.client.invoice_once`).

The order-system routes take the account name as a query parameter (``an``; ``accountName`` on the
PATCH): the connection's host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.client.routes import check_route_values
from airflow_provider_vtex.exceptions import VtexConnectionConfigError, VtexStatusNotAllowedError
from airflow_provider_vtex.models.changes import (
    ChangeCancellation,
    ChangeRequest,
    ChangeSettings,
)
from airflow_provider_vtex.models.results import ChangeResult, Outcome

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_vtex.client.rules import Budget


if TYPE_CHECKING:
    from airflow_provider_vtex.hooks.face import HookFace as _Hook
else:
    _Hook = object


class ChangesMixin(_Hook):
    """The order modification operations of :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`."""

    def account_query(self, key: str = "an") -> dict[str, str]:
        """The account name as the order-system routes want it in the query (``an`` or ``accountName``)."""
        account = self.config.account
        if not account:
            raise VtexConnectionConfigError(
                f"Connection '{self.vtex_conn_id}' has no account name (its host), and VTEX's order "
                "modification routes need it as a query parameter: set the connection's host to the account "
                "name (e.g. 'mystore'), also when base_url is set."
            )
        return {key: account}

    def change_values(self, order_id: Any, *change_request_id: Any) -> dict[str, Any]:
        """The order id (and the change request id, when given: ``None`` included, and refused), checked."""
        values: dict[str, Any] = {"change_order_id": order_id}
        if change_request_id:
            values["change_request_id"] = change_request_id[0]
        return check_route_values(**values)

    def preview_change(
        self, order_id: str, change: ChangeRequest | Mapping[str, Any] | str
    ) -> dict[str, Any]:
        """What the modification would do (items, totals, ``totalChangeValue``), changing nothing:
        ``POST /api/order-system/orders/{changeOrderId}/changes/preview``. Safe to repeat."""
        model = ChangeRequest.parse(change)
        values = self.change_values(order_id)
        answer = self._call(
            "preview_change", json_body=model.to_wire(), params=self.account_query(), **values
        )
        return answer if isinstance(answer, dict) else {}

    def list_changes(self, order_id: str, budget: Budget | None = None) -> list[dict[str, Any]]:
        """The order's change requests (``requests`` of ``GET .../changes``), oldest first as VTEX lists them."""
        values = self.change_values(order_id)
        answer = self._call("list_changes", params=self.account_query(), budget=budget, **values)
        requests = answer.get("requests") if isinstance(answer, dict) else None
        return [r for r in requests or [] if isinstance(r, dict)]

    def get_change(self, order_id: str, change_request_id: str) -> dict[str, Any]:
        """One change request, with its ``status`` and ``inProgress``: ``GET .../changes/{changeRequestId}``."""
        values = self.change_values(order_id, change_request_id)
        answer = self._call("get_change", params=self.account_query(), **values)
        return answer if isinstance(answer, dict) else {}

    async def aget_change(self, order_id: str, change_request_id: str) -> dict[str, Any]:
        """:meth:`get_change`, awaited (the modification trigger polls with it)."""
        values = self.change_values(order_id, change_request_id)
        answer = await self._acall("get_change", params=self.account_query(), **values)
        return answer if isinstance(answer, dict) else {}

    def find_change(self, order_id: str, reason: str, budget: Budget | None = None) -> dict[str, Any] | None:
        """The order's change request made with ``reason`` (the last one, if several), or None."""
        found = [r for r in self.list_changes(order_id, budget) if r.get("reason") == reason]
        return found[-1] if found else None

    def create_change(
        self,
        order_id: str,
        change: ChangeRequest | Mapping[str, Any] | str,
        *,
        check_first: bool = True,
    ) -> ChangeResult:
        """Apply an order modification once: ``PATCH /api/order-system/orders/{changeOrderId}/changes``.

        VTEX answers 202 with the change request (``requestId``) and works on it asynchronously: follow it
        with :meth:`get_change` (or :class:`~airflow_provider_vtex.operators.modification.VtexOrderModificationOperator`).

        **Once**: one change request per ``reason`` on the order. With ``check_first`` (the default) the
        history is read first: a request with the same reason means this modification was made
        (``Outcome.ALREADY_APPLIED``, nothing sent), so a retry or a re-run does not modify the order
        twice. The PATCH is retried automatically only after answers proving VTEX did nothing (429, a
        request that never left); after any other failure the history is read back until
        ``readback_timeout`` has passed: a request with the reason is ``Outcome.CONFIRMED_BY_READ_BACK``;
        a history that cannot be read raises the retryable
        :class:`~airflow_provider_vtex.exceptions.VtexOutcomeUnknownError` and nothing is re-sent.
        VTEX itself guarantees nothing about a repeated PATCH (no idempotency key).
        """
        model = ChangeRequest.parse(change)
        order_id = self.change_values(order_id)["change_order_id"]
        budget = self.budget()
        if check_first:
            held = self.find_change(order_id, model.reason, budget)
            if held is not None:
                self.log.info(
                    "Order %s already holds change request %s with reason %r: not sending it again.",
                    order_id,
                    held.get("requestId"),
                    model.reason,
                )
                return ChangeResult(
                    order_id, _text(held.get("requestId")), Outcome.ALREADY_APPLIED, _text(held.get("status"))
                )
        answer, confirmed = self._once().write(
            lambda: self._call(
                "create_change",
                json_body=model.to_wire(),
                params=self.account_query("accountName"),
                budget=budget,
                change_order_id=order_id,
            ),
            applied=lambda: self.find_change(order_id, model.reason, budget) is not None,
            order_id=order_id,
            what=f"order modification {model.reason!r} of order {order_id}",
            budget=budget,
        )
        if confirmed:
            held = self.find_change(order_id, model.reason, budget) or {}
            return ChangeResult(
                order_id,
                _text(held.get("requestId")),
                Outcome.CONFIRMED_BY_READ_BACK,
                _text(held.get("status")),
            )
        body = answer if isinstance(answer, dict) else {}
        return ChangeResult(order_id, _text(body.get("requestId")), Outcome.SENT, _text(body.get("status")))

    def retry_change(
        self,
        order_id: str,
        change_request_id: str,
        change: ChangeRequest | Mapping[str, Any] | str,
    ) -> None:
        """Make VTEX try a change request that stopped on an error again (204):
        ``POST .../changes/{changeRequestId}/retry``, with the modification's body. VTEX documents the retry
        as the way to avoid a duplicate (it reuses the request), so it is retried like a read."""
        model = ChangeRequest.parse(change)
        values = self.change_values(order_id, change_request_id)
        self._call("retry_change", json_body=model.to_wire(), params=self.account_query(), **values)

    def cancel_change(
        self, order_id: str, change_request_id: str, reason: str, *, check_first: bool = True
    ) -> Outcome:
        """Cancel a change request that stopped on an error: ``POST .../changes/{changeRequestId}/cancel``.

        VTEX refuses to cancel a request that is ``done`` (revert it with a new modification instead).
        **Once**: with ``check_first`` the request is read first: ``canceled`` already is
        ``Outcome.ALREADY_APPLIED`` (nothing sent), ``done`` raises
        :class:`~airflow_provider_vtex.exceptions.VtexStatusNotAllowedError`. After an ambiguous answer the
        request is read back (its status ``canceled``) before anything is sent again.
        """
        body = ChangeCancellation.parse({"reason": reason}).to_wire()
        values = self.change_values(order_id, change_request_id)
        order_id, request_id = values["change_order_id"], values["change_request_id"]
        if check_first:
            status = self.get_change(order_id, request_id).get("status")
            if status == "canceled":
                return Outcome.ALREADY_APPLIED
            if status == "done":
                raise VtexStatusNotAllowedError(
                    f"Change request {request_id} of order {order_id} is done: VTEX cannot cancel a processed "
                    "modification. Create a new modification that reverts it (VtexHook.create_change).",
                    order_id=order_id,
                    status="done",
                )
        budget = self.budget()
        _, confirmed = self._once().write(
            lambda: self._call(
                "cancel_change", json_body=body, params=self.account_query(), budget=budget, **values
            ),
            applied=lambda: self.get_change(order_id, request_id).get("status") == "canceled",
            order_id=order_id,
            what=f"cancellation of change request {request_id} of order {order_id}",
            budget=budget,
        )
        return Outcome.CONFIRMED_BY_READ_BACK if confirmed else Outcome.SENT

    def get_change_settings(self) -> dict[str, Any]:
        """The account's order modification settings: ``GET /api/order-system/orders/changes/settings``."""
        answer = self._call("get_change_settings", params=self.account_query())
        return answer if isinstance(answer, dict) else {}

    def set_change_settings(self, settings: ChangeSettings | Mapping[str, Any] | str) -> dict[str, Any]:
        """Replace the account's order modification settings (``PUT``; the same settings twice leave the
        same settings, so it is retried like a read)."""
        body = ChangeSettings.parse(settings).to_wire()
        answer = self._call("set_change_settings", json_body=body, params=self.account_query())
        return answer if isinstance(answer, dict) else {}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
