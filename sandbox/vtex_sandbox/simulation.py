"""A store's day: N orders placed and moved through their statuses, spread over a number of seconds, in
the background -- the traffic a feed reader and a start-handling task are load-tested against.

The schedule is a grid of ``step`` seconds: order ``i`` is placed at ``i * spacing`` and moves one status
further every ``step`` seconds, so the last order reaches the last status at ``over_seconds``. By default
``step`` equals the spacing (``over_seconds / (orders + moves - 1)``): orders become ready for handling
at a steady rate, a few in flight at any moment. One thread carries the actions out in time order,
sleeping on deadlines measured from the start (a late action does not push the next ones back).

A move the workflow refuses -- the client canceled the order meanwhile, say -- is skipped and counted,
never fatal: the day goes on for the other orders.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vtex_sandbox.seed import build_order
from vtex_sandbox.validation.common import is_int
from vtex_sandbox.workflow import DEFAULT_DAY, MoveRefused, check_path

if TYPE_CHECKING:
    from vtex_sandbox.orders import OrderBook

MAX_ORDERS = 50_000
MAX_SECONDS = 86_400.0
DEFAULT_ITEMS: tuple[dict[str, Any], ...] = (
    {"id": "2001", "name": "Sandbox T-shirt", "quantity": 1, "price": 2499},
)
_FIELDS = ("orders", "over_seconds", "step_seconds", "prefix", "items", "statuses")
_ERRORS_KEPT = 20


class SimulationRunning(RuntimeError):
    """A day is already being played (one at a time; the admin API answers 409)."""


@dataclass(frozen=True)
class DayPlan:
    """What to simulate; :meth:`parse` checks a request (``POST /_sandbox/simulate``)."""

    orders: int
    over_seconds: float
    step_seconds: float
    prefix: str = "SIM"
    items: tuple[dict[str, Any], ...] = DEFAULT_ITEMS
    statuses: tuple[str, ...] = DEFAULT_DAY

    @classmethod
    def parse(cls, data: Any) -> DayPlan:
        if not isinstance(data, dict):
            raise ValueError('the simulation needs a JSON object: {"orders": 300, "over_seconds": 60}')
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown simulation field(s) {unknown}; the fields are {list(_FIELDS)}")
        orders = data.get("orders")
        if not is_int(orders) or not 1 <= orders <= MAX_ORDERS:
            raise ValueError(f"orders must be a whole number from 1 to {MAX_ORDERS}, not {orders!r}")
        over = _seconds(data.get("over_seconds"), "over_seconds")
        statuses = check_path(data.get("statuses", list(DEFAULT_DAY)))
        moves = len(statuses) - 1
        step = data.get("step_seconds")
        if step is None:
            slots = orders + moves - 1
            step = over / slots if slots else 0.0
        step = _seconds(step, "step_seconds")
        if step * moves > over:
            raise ValueError(
                f"step_seconds={step} leaves no room: {moves} moves of {step} s take longer than over_seconds={over}"
            )
        prefix = data.get("prefix", "SIM")
        if not isinstance(prefix, str) or not prefix.isalnum() or not prefix.isascii():
            raise ValueError(f"prefix must be letters and digits (it starts every order id), not {prefix!r}")
        items = data.get("items", list(DEFAULT_ITEMS))
        if not isinstance(items, list):
            raise ValueError("items must be a non-empty list of items {id, name, quantity, price}")
        build_order(
            {"orderId": f"{prefix}-items", "items": items}, 0
        )  # the seed's checks, before the day starts
        return cls(orders, over, float(step), prefix, tuple(items), statuses)

    def schedule(self) -> list[tuple[float, int, int]]:
        """``(due seconds, order index, step index)`` in time order; step 0 places the order."""
        moves = len(self.statuses) - 1
        room = self.over_seconds - moves * self.step_seconds
        spacing = room / (self.orders - 1) if self.orders > 1 else 0.0
        actions = [
            (index * spacing + step * self.step_seconds, index, step)
            for index in range(self.orders)
            for step in range(len(self.statuses))
        ]
        actions.sort()
        return actions


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{name} must be a number of seconds from 0 to {int(MAX_SECONDS)}, not {value!r}")
    return float(value)


@dataclass
class _Progress:
    placed: int = 0
    moved: int = 0
    skipped: int = 0
    done: int = 0
    reached: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Simulation:
    """One running (or finished) store's day. Thread-safe; :meth:`wait` blocks until it is over."""

    def __init__(self, number: int, plan: DayPlan, book: OrderBook) -> None:
        self.number = number
        self.plan = plan
        self.order_ids = [f"{plan.prefix}{number}-{i + 1:05d}-01" for i in range(plan.orders)]
        self._book = book
        self._actions = plan.schedule()
        self._progress = _Progress()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._state = "running"
        self._started = time.monotonic()
        self._ended: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"vtex-sandbox-day-{number}", daemon=True)

    def start(self) -> Simulation:
        self._started = time.monotonic()
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the day is over (or ``timeout`` seconds passed); returns whether it is over."""
        return self._finished.wait(timeout)

    def cancel(self, timeout: float | None = 5.0) -> None:
        """Stop before the next action and wait for the thread to end."""
        self._cancel.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def progress(self) -> dict[str, Any]:
        """Where the day stands: actions done out of all, orders placed, per status how many orders
        reached it, skipped moves (with the first reasons), elapsed seconds."""
        with self._lock:
            p = self._progress
            end = self._ended if self._ended is not None else time.monotonic()
            return {
                "id": self.number,
                "state": self._state,
                "orders": self.plan.orders,
                "overSeconds": self.plan.over_seconds,
                "stepSeconds": self.plan.step_seconds,
                "statuses": list(self.plan.statuses),
                "actions": len(self._actions),
                "done": p.done,
                "placed": p.placed,
                "moved": p.moved,
                "skipped": p.skipped,
                "reached": dict(p.reached),
                "errors": list(p.errors),
                "elapsedSeconds": round(end - self._started, 3),
                "orderIds": list(self.order_ids),
            }

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            for due, index, step in self._actions:
                if self._cancel.wait(max(self._started + due - time.monotonic(), 0.0)):
                    self._end("canceled")
                    return
                self._act(index, step)
            self._end("finished")
        except Exception as exc:
            self._record_error(f"the simulation stopped: {type(exc).__name__}: {exc}")
            self._end("failed")
            raise

    def _act(self, index: int, step: int) -> None:
        order_id, status = self.order_ids[index], self.plan.statuses[step]
        try:
            if step == 0:
                self._book.add_order({"orderId": order_id, "items": list(self.plan.items), "status": status})
            else:
                self._book.move(order_id, status)
        except (MoveRefused, KeyError) as exc:
            self._record_error(f"{order_id} -> {status} skipped: {exc}", skipped=True)
            return
        with self._lock:
            p = self._progress
            p.done += 1
            if step == 0:
                p.placed += 1
            else:
                p.moved += 1
            p.reached[status] = p.reached.get(status, 0) + 1

    def _record_error(self, message: str, *, skipped: bool = False) -> None:
        with self._lock:
            p = self._progress
            if skipped:
                p.skipped += 1
                p.done += 1
            if len(p.errors) < _ERRORS_KEPT:
                p.errors.append(message)

    def _end(self, state: str) -> None:
        with self._lock:
            self._state = state
            self._ended = time.monotonic()
        self._finished.set()
