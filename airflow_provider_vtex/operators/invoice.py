"""InvoiceNotificationOperator: tell VTEX that an order was invoiced."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.assets import INVOICED
from airflow_provider_vtex.client.invoice_once import (
    CheckExisting,
    IfAlreadyInvoiced,
    check_invoice_options,
    read_first,
)
from airflow_provider_vtex.compat import AirflowException
from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.operators.asset_events import emit_asset_event, with_asset_outlet
from airflow_provider_vtex.operators.base import (
    VTEX_TEMPLATE_FIELDS,
    VtexBaseOperator,
    attempt_started_at,
    try_number,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models import AnyInvoice

__all__ = ["CheckExisting", "IfAlreadyInvoiced", "InvoiceNotificationOperator", "check_invoice_options"]


class InvoiceNotificationOperator(VtexBaseOperator):
    """Send an order's invoice to VTEX, on the route set of the connection (standard or PII).

    The invoice is validated against that route's contract after templating and before any request: an
    invalid one fails the task at once (``AirflowFailException``, no retries spent) and sends nothing.

    Safe to retry and to re-run: by default every attempt, the first of a new DAG run included, reads the
    order before sending, and an invoice VTEX already holds is handled as ``if_already_invoiced`` says
    instead of being sent again. The cost is one GET order per invoice (VTEX allows 6,000 per minute per
    account on that route). On a task retry, or a cleared and re-run task, the earlier attempt may have
    sent the invoice just before it died, and VTEX shows an invoice only seconds after accepting it: the
    invoice is then concluded absent only once the hook's ``readback_timeout`` has passed since this
    attempt began. A new DAG run's first try does not wait out that window: it sees what VTEX shows when
    it reads (an invoice sent by a run that died less than ``readback_timeout`` earlier may not show yet).

    :param order_id: the VTEX order id (templated).
    :param invoice: the invoice (templated): a dict (Jinja allowed inside), a JSON string, an ``XComArg``
        from the ERP task, or an :class:`~airflow_provider_vtex.models.Invoice` /
        :class:`~airflow_provider_vtex.models.PiiInvoice`.
    :param if_already_invoiced: what an invoice VTEX already holds means: ``"skip"`` (succeed and report
        it), ``"fail"`` (fail the task) or ``"resend"`` (send it anyway: VTEX issues a new receipt).
    :param check_existing: when to read the order before sending: ``"always"`` (default: every attempt,
        so a new DAG run carrying the same invoice finds what VTEX shows; one GET per invoice) or
        ``"on_retry"`` (attempts after the first only: saves that GET when nothing else can have sent
        the invoice).
    :param wait_for_confirmation: after VTEX's 200, poll the order until the invoice is visible, so
        downstream tasks (tracking) can rely on it; fails (retryably) after ``confirmation_timeout`` s.
    :param confirmation_timeout: seconds to wait for the invoice to show on the order.
    :param asset_account: the VTEX account name, to emit an asset event (Airflow 3): the task then updates
        ``vtex://{asset_account}/orders/invoiced`` with ``{"order_id", "invoice_number", "outcome"}`` in the
        event's extra, also when VTEX already held the invoice (see
        :mod:`~airflow_provider_vtex.operators.asset_events`). On Airflow 2: a warning, no event.
    :param vtex_conn_id: the ``vtex`` connection to use (templated).
    :param hook_params: keyword arguments for :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`.
    :return: to XCom, ``{"order_id", "invoice_number", "outcome", "receipt", "date"}``; ``outcome`` is
        ``"sent"``, ``"already_invoiced"`` or ``"confirmed_by_read_back"``.
    """

    template_fields: Sequence[str] = ("order_id", "invoice", *VTEX_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"invoice": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        invoice: AnyInvoice | Mapping[str, Any] | str,
        if_already_invoiced: IfAlreadyInvoiced = "skip",
        check_existing: CheckExisting = "always",
        wait_for_confirmation: bool = False,
        confirmation_timeout: float = 60.0,
        asset_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**with_asset_outlet(kwargs, asset_account, INVOICED))
        self.asset_account = asset_account
        check_invoice_options(if_already_invoiced, check_existing)
        self.order_id = order_id
        self.invoice = invoice
        self.if_already_invoiced = if_already_invoiced
        self.check_existing = check_existing
        self.wait_for_confirmation = wait_for_confirmation
        self.confirmation_timeout = confirmation_timeout

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render, then hold the invoice as the JSON VTEX will receive, so the UI's Rendered Template view
        shows exactly what is sent; an invalid one is kept JSON-safe so Airflow can store it, and
        ``execute`` fails naming every problem."""
        super().render_template_fields(context, jinja_env)
        from airflow_provider_vtex.models import INVOICE_MODELS  # at run time, not DAG parse time

        for model in INVOICE_MODELS.values():
            try:
                self.invoice = model.parse(self.invoice).to_wire()
                return
            except VtexPayloadError:
                continue
        self.invoice = json_safe(self.invoice)

    def execute(self, context: Context) -> dict[str, Any]:
        started = attempt_started_at()
        retry = try_number(context) > 1
        with self.vtex_errors():
            result = self.hook.send_invoice(
                self.order_id,
                self.invoice,
                if_already_invoiced=self.if_already_invoiced,
                check_first=read_first(self.check_existing, retry=retry),
                maybe_sent_at=started if retry else None,
            )
        self.log.info(
            "Invoice %s for order %s: %s (receipt %s).",
            result.invoice_number,
            result.order_id,
            result.outcome,
            result.receipt,
        )
        if self.wait_for_confirmation:
            self._confirm(result.order_id, result.invoice_number)
        xcom = result.to_xcom()
        emit_asset_event(
            self,
            context,
            self.asset_account,
            INVOICED,
            {k: xcom[k] for k in ("order_id", "invoice_number", "outcome")},
        )
        return xcom

    def _confirm(self, order_id: str, number: str) -> None:
        with self.vtex_errors():
            package = self.hook.wait_for_invoice(order_id, number, timeout=self.confirmation_timeout)
        if package is None:
            raise AirflowException(
                f"VTEX accepted invoice {number} for order {order_id} but the order does not show it after "
                f"{self.confirmation_timeout:g} s (wait_for_confirmation=True). OMS applies invoices "
                "asynchronously: a retry of this task checks the order first and will not send it twice."
            )
        self.log.info("Invoice %s is visible on order %s: confirmed.", number, order_id)


def json_safe(value: Any) -> Any:
    """``value`` with every NaN/Infinity replaced by its name as text, so Airflow can store it as JSON
    (the payload check then names the field instead of Airflow failing to save rendered fields)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
