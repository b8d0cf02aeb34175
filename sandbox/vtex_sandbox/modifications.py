"""Order modifications (v2) as VTEX plays them: which orders may change, what a change does to the items
and the total, and how a change request walks its statuses on the sandbox clock.

VTEX's rules, from the "Create order modifications" operation of ``VTEX - Orders API.json``:

* an order can be modified in ``handling`` (and VTEX's ``waiting-for-fulfillment`` and "ready for
  invoicing", which the sandbox does not play); never once ``invoiced`` or ``canceled``, nor when it is
  incomplete -- refused with 409 (the status is wrong *now*, as start-handling's 409);
* the order's item values and total are recalculated; the inventory is not touched; a request has its
  own status, ``waiting-acknowledgement`` -> ``waiting-confirmation`` -> ``done`` (or ``canceled``), and
  is processed asynchronously: the PATCH answers 202 and the order changes when the request is ``done``;
* a preview takes the same body and changes nothing; a request that stopped on an error can be retried
  (the same request, no duplicate) or canceled; a ``done`` request cannot be canceled.

Where VTEX is silent the sandbox chooses, and says so: one request in progress per order at a time (a
second PATCH gets 409 until the first is over, so that two requests never compute from the same items);
a SKU the order does not hold takes its price from the store's other orders (the sandbox's "catalog");
a modification that would leave no item, or take the total to zero or below, is refused (cancel the order
instead).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING

from vtex_sandbox.clock import vtex_now
from vtex_sandbox.errors import CODE_WRONG_STATUS, SandboxError, bad_request
from vtex_sandbox.model import ChangeLine, ChangeRequest, OrderItem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from vtex_sandbox.model import Order
    from vtex_sandbox.validation.changes import ChangeBody, ItemMove

#: The statuses in which VTEX lets an order be modified (of those the sandbox plays).
MODIFIABLE_STATUSES = ("handling",)
#: Seconds (sandbox clock) from the PATCH to ``waiting-confirmation`` and to ``done``, by default.
ACKNOWLEDGE_SECONDS = 1.0
DONE_SECONDS = 3.0
CODE_CHANGE_NOT_FOUND = "OMS016"  # invented: VTEX documents no body for an unknown change request


def check_modifiable(order: Order) -> None:
    """409 unless VTEX would let ``order`` be modified now."""
    if order.incomplete:
        raise SandboxError(409, CODE_WRONG_STATUS, "Incomplete orders cannot be modified")
    if order.status not in MODIFIABLE_STATUSES:
        raise SandboxError(
            409,
            CODE_WRONG_STATUS,
            f"Order {order.order_id} is {order.status}: orders can be modified only in handling, "
            "waiting-for-fulfillment or ready for invoicing",
        )
    running = next((c for c in order.changes if c.in_progress), None)
    if running is not None:
        raise SandboxError(
            409,
            CODE_WRONG_STATUS,
            f"Modification {running.request_id} of order {order.order_id} is still {running.status}: wait "
            f"until it is done (GET /api/order-system/orders/{order.order_id}/changes/{running.request_id})",
        )


def plan(
    order: Order,
    body: ChangeBody,
    catalog: Iterable[OrderItem],
    now: float,
    done_seconds: float,
    *,
    legacy: bool = False,
) -> ChangeRequest:
    """The change request ``body`` makes of ``order`` (nothing applied yet), or a 400 saying why not."""
    items = list(order.items)
    quantities = [item.quantity for item in items]
    for move in body.removed:
        index = _line(items, move, order.order_id)
        assert index is not None  # not missing_ok: an unknown line was a 400
        if move.quantity > quantities[index]:
            raise bad_request(
                f"remove: SKU {move.sku} has {quantities[index]} unit(s) left in order {order.order_id}, "
                f"not {move.quantity}"
            )
        quantities[index] -= move.quantity
    prices = {item.sku: item for item in catalog}
    for move in body.added:
        index = _line(items, move, order.order_id, missing_ok=True)
        if index is None:
            known = prices.get(move.sku)
            if known is None:
                raise bad_request(
                    f"add: SKU {move.sku} is not in the store's catalog (the SKUs of the sandbox's orders): "
                    "add an order holding it first, or name a SKU the store sells"
                )
            items.append(dataclasses.replace(known, unique_id=uuid.uuid4().hex.upper(), quantity=0))
            quantities.append(0)
            index = len(items) - 1
        quantities[index] += move.quantity
    lines = tuple(
        ChangeLine(
            item.sku,
            item.unique_id,
            item.name,
            item.quantity if index < len(order.items) else 0,
            quantities[index],
            item.selling_price,
            item.selling_price,
        )
        for index, item in enumerate(items)
        if (item.quantity if index < len(order.items) else 0) != quantities[index]
    )
    delta = sum(line.price_to * line.quantity_to - line.price_from * line.quantity_from for line in lines)
    value_after = order.value + delta - body.discount + body.increment
    if value_after <= 0:
        raise bad_request(
            f"The modification would take order {order.order_id}'s total to {value_after} cents: an order "
            "keeps a positive total (cancel the order instead of removing everything)"
        )
    after = [
        dataclasses.replace(item, quantity=q) for item, q in zip(items, quantities, strict=True) if q > 0
    ]
    if not after:
        raise bad_request(
            f"The modification would leave order {order.order_id} without items: cancel the order instead"
        )
    seconds = max(float(done_seconds), 0.0)
    return ChangeRequest(
        request_id=str(uuid.uuid4()),
        workflow_id=str(uuid.uuid4()),
        reason=body.reason,
        date=vtex_now(),
        lines=lines,
        manual_discount=body.discount,
        manual_increment=body.increment,
        value_before=order.value,
        value_after=value_after,
        items_after=after,
        submitted_at=now,
        acknowledged_at=now + seconds * ACKNOWLEDGE_SECONDS / DONE_SECONDS,
        done_at=now + seconds,
        legacy=legacy,
    )


def _line(items: list[OrderItem], move: ItemMove, order_id: str, *, missing_ok: bool = False) -> int | None:
    for index, item in enumerate(items):
        if item.sku == move.sku and (move.unique_id is None or move.unique_id == item.unique_id):
            return index
    if missing_ok and move.unique_id is None:
        return None
    line = f" with uniqueId {move.unique_id}" if move.unique_id else ""
    raise bad_request(f"SKU {move.sku}{line} is not an item of order {order_id} (see its items in GET order)")


def due(request: ChangeRequest, now: float) -> bool:
    """Move ``request`` along its statuses up to ``now``; ``True`` when it must be applied now (it reached
    ``done``, or the sandbox was told to stop it on an error: then it is left in ``error``)."""
    if not request.in_progress:
        return False
    if request.status == "waiting-acknowledgement" and now >= request.acknowledged_at:
        request.status = "waiting-confirmation"
        request.logs.append(_log("The modification was acknowledged"))
    if request.status == "waiting-confirmation" and now >= request.done_at:
        if request.fail:
            request.status = "error"
            request.logs.append(_log("The modification stopped on an error: retry or cancel it"))
            return False
        return True
    return False


def finish(order: Order, request: ChangeRequest) -> bool:
    """Apply a due ``request`` to ``order``; ``False`` (the request stops in ``error``) when the order can
    no longer take it (canceled or invoiced in the meantime)."""
    if order.status not in MODIFIABLE_STATUSES and not request.legacy:
        request.status = "error"
        request.logs.append(_log(f"The order is {order.status}: the modification cannot be applied"))
        return False
    order.items = list(request.items_after)
    order.value = request.value_after
    request.status = "done"
    request.logs.append(_log("The modification was applied to the order"))
    return True


def retry(request: ChangeRequest, now: float, done_seconds: float) -> None:
    """Retry a request that stopped on an error: the same request runs again (VTEX: no duplicate)."""
    if request.in_progress:
        return
    if request.status != "error":
        raise SandboxError(
            409,
            CODE_WRONG_STATUS,
            f"Modification {request.request_id} is {request.status}: only one that "
            "stopped on an error can be retried",
        )
    request.fail = False
    request.status = "waiting-acknowledgement"
    request.acknowledged_at = now + done_seconds * ACKNOWLEDGE_SECONDS / DONE_SECONDS
    request.done_at = now + done_seconds
    request.logs.append(_log("Retry requested"))


def cancel(request: ChangeRequest, reason: str | None) -> None:
    """Cancel a request that stopped on an error; a ``done`` request cannot be canceled (VTEX: make a new
    modification instead); canceling a canceled one again changes nothing."""
    if request.status == "canceled":
        return
    if request.status != "error":
        raise SandboxError(
            409,
            CODE_WRONG_STATUS,
            f"Modification {request.request_id} is {request.status}: only one that stopped on an error can be "
            "canceled (to revert a done modification, create a new one)",
        )
    request.status = "canceled"
    request.logs.append(_log(f"Canceled: {reason}" if reason else "Canceled"))


def change_not_found(order_id: str, request_id: str) -> SandboxError:
    return SandboxError(
        404, CODE_CHANGE_NOT_FOUND, f"Modification {request_id} of order {order_id} not found"
    )


def _log(message: str) -> dict[str, str]:
    return {"date": vtex_now(), "message": message}
