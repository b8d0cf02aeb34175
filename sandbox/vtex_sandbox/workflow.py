"""Which status moves VTEX's order workflow allows: the rule behind the admin API's moves and the
store's-day simulation (the VTEX routes -- start-handling, invoice, cancel -- keep their own checks).

The sandbox plays the statuses of :data:`~vtex_sandbox.model.STATUS_DESCRIPTIONS`. An
order goes forward along :data:`MAIN_LINE` (skipping a status is allowed: a test may not care about
payment), never back; it can be canceled until it is invoiced; ``invoiced`` and ``canceled`` are final
(VTEX: once invoiced, "the status cannot change").
"""

from __future__ import annotations

import itertools

from vtex_sandbox.model import STATUS_DESCRIPTIONS

#: The order of VTEX's statuses along a normal order's life.
MAIN_LINE: tuple[str, ...] = (
    "waiting-for-sellers-confirmation",
    "payment-pending",
    "payment-approved",
    "ready-for-handling",
    "handling",
    "invoiced",
)
FINAL_STATUSES = frozenset({"invoiced", "canceled"})
#: Where a placed order starts unless told otherwise: a new order waits for its payment.
DEFAULT_PLACEMENT_STATUS = "payment-pending"
#: The store's day: each simulated order is placed, its payment approved, and it becomes ready.
DEFAULT_DAY: tuple[str, ...] = ("payment-pending", "payment-approved", "ready-for-handling")


class MoveRefused(ValueError):
    """The workflow does not allow this move (the admin API answers 409)."""


def check_status(status: object) -> str:
    """A status the sandbox plays, or a ``ValueError`` that lists them."""
    if not isinstance(status, str) or status not in STATUS_DESCRIPTIONS:
        raise ValueError(f"unknown order status {status!r}; known: {sorted(STATUS_DESCRIPTIONS)}")
    return status


def check_move(order_id: str, current: str, target: str) -> None:
    """Raise :class:`MoveRefused` (saying why and what is possible) unless ``current -> target`` is a
    move VTEX's workflow makes."""
    check_status(target)
    if current == target:
        raise MoveRefused(f"order {order_id} is already {current}")
    if current in FINAL_STATUSES:
        raise MoveRefused(f"order {order_id} is {current}, a final status: it cannot move to {target}")
    if target == "canceled":
        return
    if target not in MAIN_LINE or current not in MAIN_LINE:
        raise MoveRefused(f"order {order_id} cannot move from {current} to {target}")
    if MAIN_LINE.index(target) < MAIN_LINE.index(current):
        raise MoveRefused(
            f"order {order_id} cannot move back from {current} to {target}; possible: {allowed_moves(current)}"
        )


def allowed_moves(current: str) -> list[str]:
    """The statuses an order in ``current`` can move to."""
    if current in FINAL_STATUSES:
        return []
    later = list(MAIN_LINE[MAIN_LINE.index(current) + 1 :]) if current in MAIN_LINE else []
    return [*later, "canceled"]


def check_path(statuses: object) -> tuple[str, ...]:
    """A list of statuses an order can walk in turn (the simulation's day), else ``ValueError``."""
    if not isinstance(statuses, (list, tuple)) or not statuses:
        raise ValueError(
            "statuses must be a non-empty list of order statuses, e.g. " + str(list(DEFAULT_DAY))
        )
    path = tuple(check_status(s) for s in statuses)
    for current, target in itertools.pairwise(path):
        try:
            check_move("(simulated)", current, target)
        except MoveRefused as exc:
            raise ValueError(f"statuses {list(path)}: {exc}") from None
    return path
