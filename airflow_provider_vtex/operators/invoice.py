"""InvoiceNotificationOperator: tell VTEX that an order was invoiced."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.operators.base import VtexBaseOperator, order_id_text, try_number

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models import Invoice


IF_ALREADY_INVOICED = ("skip", "fail", "resend")
CHECK_EXISTING = ("on_retry", "always")


def check_retry_options(if_already_invoiced: str, check_existing: str) -> None:
    """Refuse unknown choices when the DAG is parsed, not when the task first runs."""
    if if_already_invoiced not in IF_ALREADY_INVOICED:
        raise ValueError(
            f"if_already_invoiced must be one of {IF_ALREADY_INVOICED}, got {if_already_invoiced!r}"
        )
    if check_existing not in CHECK_EXISTING:
        raise ValueError(f"check_existing must be one of {CHECK_EXISTING}, got {check_existing!r}")


class InvoiceNotificationOperator(VtexBaseOperator):
    """Send an order's invoice to VTEX (``POST /api/oms/pvt/orders/{orderId}/invoice``).

    The invoice is validated against VTEX's contract after templating and before any request: an
    invalid one fails the task at once (``AirflowFailException``, no retries spent) and sends nothing.

    Safe to retry: on a task retry, or a cleared and re-run task, the order is read first, and an
    invoice VTEX already holds is handled as ``if_already_invoiced`` says instead of being sent again
    (VTEX would issue a new receipt for it, and a known VTEX race saves duplicate receipts).

    :param order_id: the VTEX order id (templated).
    :param invoice: the invoice (templated): a dict (Jinja allowed inside), a JSON string, an
        ``XComArg`` from the ERP task, or an :class:`~airflow_provider_vtex.models.Invoice`.
    :param if_already_invoiced: what an invoice VTEX already holds means: ``"skip"`` (succeed, log it
        and return what VTEX holds), ``"fail"`` (fail the task) or ``"resend"`` (send it anyway, on
        purpose: VTEX issues a new receipt that overrides the old one).
    :param check_existing: when to read the order before sending: ``"on_retry"`` (attempts after the
        first) or ``"always"`` (also guards a second DAG run that carries the same invoice).
    :param wait_for_confirmation: after VTEX's 200, poll the order until the invoice is visible, so
        downstream tasks (tracking) can rely on it; fails after ``confirmation_timeout`` seconds.
    :param confirmation_timeout: seconds to wait for the invoice to show on the order.
    :param vtex_conn_id: the ``vtex`` connection to use.
    :param hook_params: extra keyword arguments for :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`
        (e.g. ``{"readback_timeout": 60}``).
    :return: to XCom, ``{"order_id", "invoice_number", "receipt", "date", "outcome"}``; ``outcome`` is
        ``"sent"``, ``"already_invoiced"`` (found before sending; ``receipt`` is then None) or
        ``"confirmed_by_read_back"`` (the answer was lost, the order shows the invoice).
    """

    template_fields: Sequence[str] = ("order_id", "invoice")
    template_fields_renderers: ClassVar[dict[str, str]] = {"invoice": "json"}

    def __init__(
        self,
        *,
        order_id: str,
        invoice: Invoice | Mapping[str, Any] | str,
        if_already_invoiced: str = "skip",
        check_existing: str = "on_retry",
        wait_for_confirmation: bool = False,
        confirmation_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_retry_options(if_already_invoiced, check_existing)
        self.order_id = order_id
        self.invoice = invoice
        self.if_already_invoiced = if_already_invoiced
        self.check_existing = check_existing
        self.wait_for_confirmation = wait_for_confirmation
        self.confirmation_timeout = confirmation_timeout

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render, then hold the invoice as the JSON VTEX will receive, so the UI's Rendered Template
        view shows exactly what is sent (a list rendered to text by Jinja shows as a list again)."""
        super().render_template_fields(context, jinja_env)
        with contextlib.suppress(VtexPayloadError):  # left as rendered: execute() lists every problem
            self.invoice = _parse_invoice(self.invoice).to_wire()

    def execute(self, context: Context) -> dict[str, Any]:
        order_id = order_id_text(self.order_id)
        with self.vtex_errors():
            invoice = _parse_invoice(self.invoice)
            number = invoice.invoice_number
            attempt = try_number(context)
            if self.check_existing == "always" or attempt > 1:
                held = self.hook.find_invoice(order_id, number)
                if held is not None:
                    result = self._already_invoiced(order_id, number, held, attempt)
                    if result is not None:
                        return result
            answer = self.hook.notify_invoice(order_id, invoice)
        outcome = "confirmed_by_read_back" if answer.get("readBack") else "sent"
        self.log.info(
            "VTEX %s invoice %s (value %s, type %s) for order %s: receipt %s",
            "accepted" if outcome == "sent" else "holds (answer lost, read back)",
            number,
            invoice.invoice_value,
            invoice.type,
            order_id,
            answer.get("receipt"),
        )
        if self.wait_for_confirmation:
            self._confirm(order_id, number)
        return {
            "order_id": order_id,
            "invoice_number": number,
            "receipt": answer.get("receipt"),
            "date": answer.get("date"),
            "outcome": outcome,
        }

    def _already_invoiced(
        self, order_id: str, number: str, held: dict[str, Any], attempt: int
    ) -> dict[str, Any] | None:
        """Apply ``if_already_invoiced``; None means: send it anyway."""
        what = (
            f"VTEX already holds invoice {number} on order {order_id} (value {held.get('invoiceValue')}, "
            f"issued {held.get('issuanceDate')}); this is attempt {attempt} of the task"
        )
        if self.if_already_invoiced == "fail":
            raise AirflowFailException(
                f"{what}. if_already_invoiced='fail': not sending it again. Use 'skip' to accept it or "
                "'resend' to issue a new receipt on purpose."
            )
        if self.if_already_invoiced == "resend":
            self.log.warning(
                "%s; if_already_invoiced='resend': sending it again (VTEX issues a new receipt).", what
            )
            return None
        self.log.info("%s; if_already_invoiced='skip': not sending it again.", what)
        return {
            "order_id": order_id,
            "invoice_number": number,
            "receipt": None,
            "date": None,
            "outcome": "already_invoiced",
        }

    def _confirm(self, order_id: str, number: str) -> None:
        package = self.hook.wait_for_invoice(order_id, number, timeout=self.confirmation_timeout)
        if package is None:
            raise AirflowException(
                f"VTEX accepted invoice {number} for order {order_id} but the order does not show it after "
                f"{self.confirmation_timeout:g} s (wait_for_confirmation=True). OMS applies invoices "
                "asynchronously: a retry of this task checks the order first and will not send it twice."
            )
        self.log.info("Invoice %s is visible on order %s: confirmed.", number, order_id)


def _parse_invoice(value: Any) -> Invoice:
    """The payload contract is imported when a task runs, not when the scheduler parses the DAG file."""
    from airflow_provider_vtex.models import Invoice

    return Invoice.parse(value)
