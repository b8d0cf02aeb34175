"""The small record every VTEX task leaves in Airflow (an XCom, key ``vtex_report``): what VTEX answered it.

Why: the VTEX page (``plugins/vtex_page.py``) shows refusals, throttling and outcomes per DAG from
Airflow's own records, not from a second store; the tasks therefore leave these figures where Airflow
keeps task results. One record per task try, pushed when the task's VTEX work ends, on success and on
failure alike (:meth:`~airflow_provider_vtex.operators.base.VtexHookMixin.vtex_errors`).

It holds counts, VTEX's error codes and order ids only: never a credential, a payload, a URL or an
error message (whose text could quote a server's answer).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

#: The XCom key of the record.
REPORT_XCOM_KEY = "vtex_report"
#: Order ids kept per record: enough to find a stuck order's last task; a bulk task's thousands are cut.
MAX_ORDER_IDS = 200

#: ``success``: the task's VTEX work ended without error. ``refused``: VTEX answered a 4xx a retry cannot
#: change. ``outcome_unknown``: a write whose effect could not be confirmed (read it before sending again).
#: ``retrying``: a failure time may fix (the task's retries apply). ``failed``: any other error.
TaskOutcome = Literal["success", "refused", "outcome_unknown", "retrying", "failed"]


@dataclass
class RequestTally:
    """What one hook's requests met, counted as they happen (thread-safe: a bulk task's threads share it).

    ``waited_seconds`` is the time spent waiting for VTEX's rate limits: the wait VTEX asked for after a
    429 and the waits for the connection's request-rate cap.
    """

    requests: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    #: 4xx answers other than 429, by VTEX's error code (``OMS003``...), or ``HTTP <status>`` without one.
    refusals: Counter[str] = field(default_factory=Counter)
    #: Requests by operation (``invoice``, ``start_handling``, ``tracking_number``...).
    operations: Counter[str] = field(default_factory=Counter)
    #: Requests VTEX accepted (2xx), by operation: an order taken into handling, an invoice sent.
    accepted: Counter[str] = field(default_factory=Counter)
    order_ids: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def answered(self, operation: str, status: int | None, error_code: str | None) -> None:
        with self._lock:
            self.requests += 1
            self.operations[operation] += 1
            if status is not None and 200 <= status < 300:
                self.accepted[operation] += 1
            if status == 429:
                self.rate_limited += 1
            elif status is not None and 400 <= status < 500:
                self.refusals[error_code or f"HTTP {status}"] += 1

    def waited(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.waited_seconds += seconds

    def touched(self, order_id: Any) -> None:
        """An order this task sent a request about (kept once, the first ``MAX_ORDER_IDS``)."""
        if not order_id:
            return
        with self._lock:
            if len(self.order_ids) < MAX_ORDER_IDS and str(order_id) not in self.order_ids:
                self.order_ids.append(str(order_id))


@dataclass(frozen=True)
class TaskReport:
    """The record as stored: plain JSON types, see the module docstring."""

    conn_id: str
    outcome: TaskOutcome
    requests: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    refusals: dict[str, int] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    order_ids: list[str] = field(default_factory=list)
    #: VTEX's error code (or ``HTTP <status>``) of the error that ended the task; ``None`` on success.
    error_code: str | None = None
    #: The order whose write could not be confirmed (outcome ``outcome_unknown``).
    unknown_order_id: str | None = None

    @classmethod
    def of(
        cls,
        conn_id: str,
        tally: RequestTally,
        outcome: TaskOutcome,
        *,
        error_code: str | None = None,
        unknown_order_id: str | None = None,
    ) -> TaskReport:
        with tally._lock:
            return cls(
                conn_id=conn_id,
                outcome=outcome,
                requests=tally.requests,
                rate_limited=tally.rate_limited,
                waited_seconds=round(tally.waited_seconds, 3),
                refusals=dict(tally.refusals),
                operations=dict(tally.operations),
                accepted=dict(tally.accepted),
                order_ids=list(tally.order_ids),
                error_code=error_code,
                unknown_order_id=unknown_order_id,
            )

    def to_xcom(self) -> dict[str, Any]:
        return {
            "conn_id": self.conn_id,
            "outcome": self.outcome,
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "waited_seconds": self.waited_seconds,
            "refusals": self.refusals,
            "operations": self.operations,
            "accepted": self.accepted,
            "order_ids": self.order_ids,
            "error_code": self.error_code,
            "unknown_order_id": self.unknown_order_id,
        }

    @classmethod
    def from_xcom(cls, value: Any) -> TaskReport | None:
        """The record read back, or ``None`` if ``value`` is not one (another task's XCom of that key)."""
        if not isinstance(value, dict) or not isinstance(value.get("conn_id"), str):
            return None
        outcome = value.get("outcome")
        if outcome not in ("success", "refused", "outcome_unknown", "retrying", "failed"):
            return None

        def counts(name: str) -> dict[str, int]:
            raw = value.get(name)
            return (
                {str(k): int(v) for k, v in raw.items() if isinstance(v, int)}
                if isinstance(raw, dict)
                else {}
            )

        order_ids = value.get("order_ids")
        return cls(
            conn_id=value["conn_id"],
            outcome=outcome,
            requests=int(value.get("requests") or 0),
            rate_limited=int(value.get("rate_limited") or 0),
            waited_seconds=float(value.get("waited_seconds") or 0.0),
            refusals=counts("refusals"),
            operations=counts("operations"),
            accepted=counts("accepted"),
            order_ids=[str(o) for o in order_ids] if isinstance(order_ids, list) else [],
            error_code=value.get("error_code") if isinstance(value.get("error_code"), str) else None,
            unknown_order_id=(
                value.get("unknown_order_id") if isinstance(value.get("unknown_order_id"), str) else None
            ),
        )
