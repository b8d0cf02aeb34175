"""VtexStartHandlingOperator: move ready orders to ``handling``, once each, whatever the feed redelivers.

VTEX answers start-handling on an order that is not ``ready-for-handling`` with 409, and the feed may hand
out an order's event again (a run that died before committing, or a duplicate event). So this task reads
each order first: a ready order is moved to handling; an order already past it is reported, not acted on
twice; an order in another status (canceled meanwhile, say) is reported and left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.assets import HANDLING
from airflow_provider_vtex.client.invoice_once import HANDLED_STATUSES
from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.exceptions import VtexConflictError, VtexError
from airflow_provider_vtex.operators.asset_events import emit_asset_event, with_asset_outlet
from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator, json_text_or_value

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context

READY = "ready-for-handling"


class VtexStartHandlingOperator(VtexBaseOperator):
    """Start handling each ready order among ``order_ids``, exactly once per order.

    :param order_ids: (templated) one order id, a list of them, the feed items of
        :class:`~airflow_provider_vtex.operators.feed.VtexReadOrderFeedOperator` (dicts with ``order_id``),
        or any of these as JSON text. Repeated ids are handled once.
    :param max_requests_per_second: cap on this task's requests per second at VTEX (each order costs two:
        the read, then the call); ``None`` for no cap. With ``max_active_tis_per_dag=1`` (one start-handling
        task at a time, as the examples run it) this is the share of the account's request budget that
        starting orders may use, and it bounds how fast a backlog drains: ``60 * cap / 2`` orders a minute.
    :param asset_account: the VTEX account name, to emit an asset event (Airflow 3): the task then updates
        ``vtex://{asset_account}/orders/handling`` with ``{"order_ids": [...]}`` in the event's extra, the
        orders this task moved to handling (``started`` or ``confirmed_by_read_back``; possibly none).
        On Airflow 2: a warning, no event.
    :param vtex_conn_id: the ``vtex`` connection (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, one ``{"order_id", "outcome", "status"}`` per distinct order: ``outcome`` is
        ``"started"``, ``"confirmed_by_read_back"`` (the answer was lost, the order shows handling),
        ``"already_handling"`` (past ready-for-handling before this task: not acted on twice) or
        ``"not_ready"`` (another status, e.g. canceled: left alone). When an order fails, the others are
        still tried, then the task fails (retryably if a retry could help) naming the orders.
    """

    template_fields: Sequence[str] = ("order_ids", *VTEX_TEMPLATE_FIELDS)

    def __init__(
        self,
        *,
        order_ids: str | list[Any],
        max_requests_per_second: float | None = None,
        asset_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_asset_outlet(kwargs, asset_account, HANDLING))
        self.asset_account = asset_account
        self.order_ids = order_ids
        self.max_requests_per_second = max_requests_per_second

    def hook_parameters(self) -> dict[str, Any]:
        return {"max_requests_per_second": self.max_requests_per_second, **super().hook_parameters()}

    def execute(self, context: Context) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        failures: list[tuple[str, VtexError]] = []
        with self.vtex_errors():
            ids = [self.hook.checked_order_id(order_id) for order_id in _order_ids(self.order_ids)]
            if ids:
                _ = self.hook.config  # a missing or broken connection fails once, saying why, not per order
            for order_id in ids:
                try:
                    results.append(self._start(order_id))
                except VtexError as exc:
                    self.log.error("Order %s: %s", order_id, exc)
                    failures.append((order_id, exc))
            counts: dict[str, int] = {}
            for result in results:
                counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
            self.log.info(
                "Start handling: %s.", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no orders"
            )
            if failures:
                named = "; ".join(f"{order_id} ({type(exc).__name__})" for order_id, exc in failures[:20])
                message = f"Start handling failed for {len(failures)} of {len(ids)} orders: {named}."
                if any(exc.retryable for _, exc in failures):
                    raise AirflowException(message + " A retry starts only the orders still ready.")
                raise AirflowFailException(message)
        started = [r["order_id"] for r in results if r["outcome"] in ("started", "confirmed_by_read_back")]
        emit_asset_event(self, context, self.asset_account, HANDLING, {"order_ids": started})
        return results

    def _start(self, order_id: str) -> dict[str, Any]:
        from airflow_provider_vtex.models import Outcome  # at run time, not DAG parse time

        status = str(self.hook.get_order(order_id).get("status"))
        if status in HANDLED_STATUSES:
            self.log.info("Order %s is already '%s': not starting it again.", order_id, status)
            return {"order_id": order_id, "outcome": Outcome.ALREADY_HANDLING.value, "status": status}
        if status != READY:
            self.log.warning("Order %s is '%s', not %s: left alone.", order_id, status, READY)
            return {"order_id": order_id, "outcome": Outcome.NOT_READY.value, "status": status}
        try:
            outcome = self.hook.start_handling(order_id)
        except VtexConflictError:
            # Someone else moved it between our read and our call: read again to tell which way.
            status = str(self.hook.get_order(order_id).get("status"))
            if status in HANDLED_STATUSES:
                return {"order_id": order_id, "outcome": Outcome.ALREADY_HANDLING.value, "status": status}
            raise
        return {
            "order_id": order_id,
            "outcome": (Outcome.STARTED if outcome is Outcome.SENT else outcome).value,
            "status": "handling",
        }


def _order_ids(value: Any) -> list[str]:
    """Distinct order ids, in order, from an id, a list of ids or feed items, or JSON text of either."""
    parsed = json_text_or_value(value, "order_ids", plain_text=True)
    value = parsed if isinstance(parsed, list | tuple) else [value]
    ids: list[str] = []
    for item in value:
        order_id = item.get("order_id") if isinstance(item, dict) else item
        if order_id is not None and str(order_id) not in ids:
            ids.append(str(order_id))
    return ids
