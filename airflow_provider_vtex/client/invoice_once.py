"""The invoice-once rule, and its one owner: a write that may have been applied is never sent again blindly.

VTEX accepts a write (an invoice, a start-handling, a cancel, a payment notification) and shows it on
the order only seconds later, and an answer can be lost after VTEX applied the write. So every decision
"send or not" is made here, from what the order shows, and nowhere else:

- **whether to read first** (:func:`read_first`): whether a task reads the order before sending
  (``check_existing``: every attempt, or only a retry, whose earlier attempt may have sent it);
- **the read-first step** (:meth:`WriteOnce.check_first`): the order is read (polled until the visibility
  window of an earlier attempt has passed), and an invoice VTEX already holds decides the result;
- **what an invoice VTEX holds means** (:func:`resolve_held`, ``if_already_invoiced``): skip, fail or
  resend;
- **absent or unknown** (:meth:`WriteOnce.poll_for`): an invoice is concluded absent only once VTEX's
  visibility window (``readback_timeout``) has passed since it may have been sent; a poll that would
  outlive the call's time budget ends "unknown", and nothing is sent;
- **read back** (:meth:`WriteOnce.write`): after a failure that may have been applied, the order is read
  back before anything is re-sent.

The hook (:class:`~airflow_provider_vtex.hooks.vtex.VtexHook`) supplies the VTEX calls (reading the
order, sending the write) and calls these for every write; the single and the bulk invoice operators
call the hook, and only pass their options through. No Airflow here; the operators import this module
when a DAG is parsed, so the models (pydantic) and the retry rules are imported only when a decision is
made.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from airflow_provider_vtex.exceptions import (
    VtexConflictError,
    VtexError,
    VtexInvoiceAlreadySentError,
    VtexOutcomeUnknownError,
    VtexRetriesExhaustedError,
    root_cause,
)

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from airflow_provider_vtex.client.rules import Budget
    from airflow_provider_vtex.models import InvoiceResult

T = TypeVar("T")

#: What an invoice VTEX already holds means: succeed and report it, fail, or send it again on purpose.
IfAlreadyInvoiced = Literal["skip", "fail", "resend"]
#: When a task reads the order before sending: on every attempt, or only on a retry.
CheckExisting = Literal["on_retry", "always"]

#: Statuses after which start-handling has happened (the order left ready-for-handling forward).
HANDLED_STATUSES = frozenset({"handling", "invoice", "invoiced"})
#: Statuses an order reaches once its payment is approved (a payment notification did its work, or was
#: not needed): a read-back that finds one of them confirms a payment notification.
PAID_STATUSES = frozenset(
    {
        "payment-approved",
        "window-to-cancel",
        "ready-for-handling",
        "start-handling",
        "handling",
        "invoice",
        "invoiced",
    }
)
#: Statuses that show a cancel was applied or is under way.
CANCELED_STATUSES = frozenset({"canceled", "cancellation-requested", "request-cancel", "cancel"})


def check_invoice_options(if_already_invoiced: str, check_existing: str) -> None:
    """Refuse unknown choices when the DAG is parsed, not when the task first runs."""
    if if_already_invoiced not in get_args(IfAlreadyInvoiced):
        raise ValueError(
            f"if_already_invoiced must be one of {get_args(IfAlreadyInvoiced)}, got {if_already_invoiced!r}"
        )
    if check_existing not in get_args(CheckExisting):
        raise ValueError(f"check_existing must be one of {get_args(CheckExisting)}, got {check_existing!r}")


def read_first(check_existing: CheckExisting, *, retry: bool) -> bool:
    """Whether to read the order before sending: always on a retry (the earlier attempt may have sent
    the invoice just before it died), and on every attempt with ``check_existing="always"``."""
    return retry or check_existing == "always"


def invoice_package(order: Mapping[str, Any], invoice_number: str) -> dict[str, Any] | None:
    """The package holding ``invoice_number`` in a GET-order answer (``packageAttachment.packages``)."""
    attachment = order.get("packageAttachment") or {}
    for package in attachment.get("packages") or []:
        if isinstance(package, dict) and package.get("invoiceNumber") == invoice_number:
            return package
    return None


def resolve_held(
    order_id: str,
    invoice_number: str,
    package: Mapping[str, Any],
    if_already_invoiced: IfAlreadyInvoiced,
    *,
    data_architecture: str,
    log: logging.Logger | Any,
) -> InvoiceResult | None:
    """What an invoice VTEX already holds means: a result, an error, or ``None`` for "send it anyway"."""
    what = (
        f"VTEX already holds invoice {invoice_number} on order {order_id} (value {package.get('invoiceValue')}, "
        f"issued {package.get('issuanceDate') or package.get('issuedDate')})"
    )
    if if_already_invoiced == "fail":
        raise VtexInvoiceAlreadySentError(
            f"{what}. if_already_invoiced='fail': not sending it again. Use 'skip' to accept it or 'resend' "
            "to issue a new receipt on purpose.",
            order_id=order_id,
            invoice_number=invoice_number,
        )
    if if_already_invoiced == "resend" and data_architecture == "pii":
        raise VtexInvoiceAlreadySentError(
            f"{what}. if_already_invoiced='resend' is not possible on VTEX's PII data architecture: its "
            "invoice route refuses a second request with the same invoiceNumber. Use 'skip' or 'fail'.",
            order_id=order_id,
            invoice_number=invoice_number,
        )
    if if_already_invoiced == "resend":
        log.warning("%s; if_already_invoiced='resend': sending it again (VTEX issues a new receipt).", what)
        return None
    log.info("%s; if_already_invoiced='skip': not sending it again.", what)
    from airflow_provider_vtex.models import InvoiceResult, Outcome

    return InvoiceResult(order_id, invoice_number, Outcome.ALREADY_INVOICED)


class WriteOnce:
    """The waits of the rule: VTEX's visibility window, read-backs, and the one budget they share.

    :param readback_timeout: how long after accepting a write VTEX may take to show it on the order.
    :param readback_interval: seconds between two read-backs.
    :param max_total_wait: the budget of one call, named in the error when a poll would outlive it.
    :param log: where the decisions are logged (the hook's logger).
    """

    def __init__(
        self,
        *,
        readback_timeout: float,
        readback_interval: float,
        max_total_wait: float,
        log: logging.Logger | Any,
        on_read_back_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.readback_timeout = readback_timeout
        self.readback_interval = readback_interval
        self.max_total_wait = max_total_wait
        self.log = log
        #: Told each wait before a read-back (the hook reports it to Airflow's metrics).
        self.on_read_back_wait = on_read_back_wait

    def write(
        self,
        send: Callable[[], Any],
        *,
        applied: Callable[[], bool],
        order_id: str,
        what: str,
        budget: Budget,
    ) -> tuple[Any, bool]:
        """Send a write that must not be applied twice: ``(answer, False)`` when VTEX answered, or
        ``(None, True)`` when the answer was lost and reading back showed the write applied."""
        from airflow_provider_vtex.client.rules import maybe_applied, short

        resends_left = budget.max_attempts - 1
        resent = False
        while True:
            try:
                return send(), False
            except VtexConflictError:
                # A resend refused as a duplicate (VTEX's PII route refuses a repeated invoiceNumber): VTEX
                # applied the earlier send after all, later than its visibility window. Confirm by reading.
                if resent and applied():
                    return None, True
                raise
            except VtexError as exc:
                if not maybe_applied(exc):
                    raise
                self.log.warning(
                    "The outcome of the %s is unknown (%s); reading the order back before deciding whether to "
                    "send it again.",
                    what,
                    short(root_cause(exc)),
                )
                until = time.monotonic() + self.readback_timeout
                try:
                    found = self.poll_for(
                        lambda: True if applied() else None, until, budget, order_id=order_id, what=what
                    )
                except VtexOutcomeUnknownError:
                    raise
                except VtexError as read_error:
                    raise VtexOutcomeUnknownError(
                        f"The {what} may or may not have reached VTEX ({exc}), and reading the order back failed "
                        f"({read_error}). It was not sent again, to avoid applying it twice; a retry of the task "
                        "reads the order back first.",
                        order_id=order_id,
                        what=what,
                    ) from read_error
                if found:
                    return None, True
                if resends_left <= 0:
                    raise VtexRetriesExhaustedError(
                        f"The {what} did not reach VTEX: every send failed and the order does not show it "
                        f"{self.readback_timeout:g} s after the last one. VTEX last answered: {exc}",
                        attempts=budget.max_attempts,
                        last_error=root_cause(exc),
                    ) from exc
                resends_left -= 1
                resent = True
                self.log.info(
                    "VTEX does not show the %s %.0f s after it was sent: sending it again.",
                    what,
                    self.readback_timeout,
                )

    def check_first(
        self,
        find_held: Callable[[], Mapping[str, Any] | None],
        *,
        order_id: str,
        invoice_number: str,
        if_already_invoiced: IfAlreadyInvoiced,
        data_architecture: str,
        budget: Budget,
        maybe_sent_at: dt.datetime | None = None,
    ) -> InvoiceResult | None:
        """The read-first step: what the invoice VTEX already holds means, or ``None`` for "send it".

        ``find_held`` reads the order and returns the invoice's package if VTEX shows it. It is read
        once, or, when an earlier attempt may have sent the invoice at ``maybe_sent_at``, polled until
        VTEX's visibility window since then has passed. An invoice VTEX holds is resolved as
        ``if_already_invoiced`` says (:func:`resolve_held`): a result (``skip``), an error (``fail``), or
        ``None`` (``resend``, on purpose); an invoice VTEX does not show is ``None``: send it.
        """
        held = self.poll_for(
            find_held,
            self.window_end(maybe_sent_at),
            budget,
            order_id=order_id,
            what=f"invoice {invoice_number}",
        )
        if held is None:
            return None
        return resolve_held(
            order_id,
            invoice_number,
            held,
            if_already_invoiced,
            data_architecture=data_architecture,
            log=self.log,
        )

    def window_end(self, maybe_sent_at: dt.datetime | None) -> float:
        """The monotonic time at which a write sent at ``maybe_sent_at`` must be visible (now if None)."""
        if maybe_sent_at is None:
            return time.monotonic()
        if maybe_sent_at.tzinfo is None:
            maybe_sent_at = maybe_sent_at.replace(tzinfo=dt.timezone.utc)
        since = dt.datetime.now(dt.timezone.utc) - maybe_sent_at
        return time.monotonic() + self.readback_timeout - since.total_seconds()

    def wait_out_window(self, maybe_sent_at: dt.datetime) -> float:
        """Sleep until ``readback_timeout`` has passed since ``maybe_sent_at``; returns the seconds slept."""
        wait = self.window_end(maybe_sent_at) - time.monotonic()
        if wait <= 0:
            return 0.0
        self.log.info(
            "An earlier attempt may have sent invoices VTEX does not show yet: waiting %.1f s (readback_timeout=%g s) "
            "before concluding any is absent.",
            wait,
            self.readback_timeout,
        )
        time.sleep(wait)
        return wait

    def poll_for(
        self, check: Callable[[], T | None], until: float, budget: Budget, *, order_id: str, what: str
    ) -> T | None:
        """Call ``check`` until it returns something or ``until`` (monotonic) passes; at least once.

        A poll that would outlive the call's budget raises :class:`VtexOutcomeUnknownError`: absence could
        not be concluded, so nothing may be sent.
        """
        while True:
            found = check()
            remaining = until - time.monotonic()
            if found is not None or remaining <= 0:
                return found
            wait = min(self.readback_interval, remaining)
            if not budget.allows(wait):
                raise VtexOutcomeUnknownError(
                    f"The order does not show the {what} yet, and the call's time budget (max_total_wait="
                    f"{self.max_total_wait:g} s) runs out {remaining:.0f} s before VTEX's visibility window "
                    f"(readback_timeout={self.readback_timeout:g} s) ends: nothing was sent, to avoid applying it "
                    "twice; a retry of the task reads the order back first.",
                    order_id=order_id,
                    what=what,
                )
            self.log.info(
                "The order does not show the %s yet; checking again in %.1f s (%.0f s left).",
                what,
                wait,
                remaining,
            )
            if self.on_read_back_wait is not None:
                self.on_read_back_wait(wait)
            time.sleep(wait)
