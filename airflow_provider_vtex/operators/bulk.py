"""BulkInvoiceNotificationOperator: many invoices in one task, concurrently, under a rate limit.

Why: one mapped task per order costs Airflow a task instance each (scheduling, a worker slot, a
process), which dwarfs one HTTP call; one task sending serially waits on every round trip. This task
validates every invoice, then sends the valid ones from a thread pool over the hook's one pooled session,
never starting more requests per second than asked, and pausing every thread when VTEX answers 429.
"""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.exceptions import (
    VtexApiError,
    VtexError,
    VtexPayloadError,
    VtexRetriesExhaustedError,
)
from airflow_provider_vtex.operators.base import VtexBaseOperator, try_number
from airflow_provider_vtex.operators.invoice import check_retry_options

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.hooks.vtex import VtexHook
    from airflow_provider_vtex.models import Invoice

#: How many failed orders the task's error message names before summarising the rest.
NAMED_FAILURES = 20
#: Invoices queued per sending thread: enough to keep every thread busy, few enough to keep memory flat.
QUEUED_PER_THREAD = 4


class BulkInvoiceNotificationOperator(VtexBaseOperator):
    """Send many invoices to VTEX from one task, concurrently and under a request-rate cap.

    :param invoices: (templated) a list of ``{"order_id": ..., "invoice": {...}}`` (each invoice as
        :class:`~airflow_provider_vtex.operators.invoice.InvoiceNotificationOperator` accepts it), e.g.
        the XCom list of an ERP task, or that list as JSON text.
    :param max_concurrency: invoices in flight at once (and the size of the HTTP connection pool).
    :param max_requests_per_second: cap on request starts per second for this task, read-backs and
        retries included; ``None`` for no cap. With N such tasks running at once the account sees up
        to N times this rate.
    :param if_already_invoiced: ``"skip"`` (default), ``"fail"`` or ``"resend"``, as for the single
        invoice operator.
    :param check_existing: ``"on_retry"`` (default: a task retry reads each order first, so it sends
        only what VTEX does not hold) or ``"always"``.
    :param vtex_conn_id: the ``vtex`` connection to use.
    :param hook_params: extra keyword arguments for the hook.
    :return: to XCom, one result per invoice, in input order: ``{"order_id", "invoice_number",
        "outcome", "receipt", "error_code", "error"}``; ``outcome`` is ``sent``, ``already_invoiced``,
        ``confirmed_by_read_back``, ``invalid`` (refused before sending) or ``failed``. When any invoice
        is invalid or failed, the results are pushed under the XCom key ``results`` and the task fails
        after attempting all of them, naming the failed orders.
    """

    template_fields: Sequence[str] = ("invoices",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"invoices": "json"}

    def __init__(
        self,
        *,
        invoices: list[dict[str, Any]] | str,
        max_concurrency: int = 8,
        max_requests_per_second: float | None = None,
        if_already_invoiced: str = "skip",
        check_existing: str = "on_retry",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency!r}")
        check_retry_options(if_already_invoiced, check_existing)
        self.invoices = invoices
        self.max_concurrency = max_concurrency
        self.max_requests_per_second = max_requests_per_second
        self.if_already_invoiced = if_already_invoiced
        self.check_existing = check_existing

    @cached_property
    def hook(self) -> VtexHook:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        params = {
            "pool_maxsize": self.max_concurrency,
            "max_requests_per_second": self.max_requests_per_second,
            **(self.hook_params or {}),
        }
        return VtexHook(vtex_conn_id=self.vtex_conn_id, **params)

    def execute(self, context: Context) -> list[dict[str, Any]]:
        entries = _entries(self.invoices)
        results: list[dict[str, Any] | None] = [None] * len(entries)
        # Validate everything before sending anything, but keep only (index, order id): holding 20,000
        # parsed models would double the task's memory, and parsing again when sending costs microseconds.
        valid: list[tuple[int, str]] = []
        for index, entry in enumerate(entries):
            parsed = _parse_entry(index, entry)
            if isinstance(parsed, dict):
                results[index] = parsed
            else:
                valid.append((index, parsed[0]))
        invalid = len(entries) - len(valid)
        if invalid:
            self.log.warning("%d of %d invoices are invalid and will not be sent.", invalid, len(entries))
        check_first = self.check_existing == "always" or try_number(context) > 1
        if valid:
            with self.vtex_errors():
                self.hook.get_conn()  # read the connection and build the session before the threads start
            self.log.info(
                "Sending %d invoices with %d in flight at most%s%s.",
                len(valid),
                self.max_concurrency,
                f", at most {self.max_requests_per_second:g} requests/s"
                if self.max_requests_per_second
                else "",
                ", reading each order first (retry)" if check_first else "",
            )
            for index, result in self._send_all(entries, valid, check_first):
                results[index] = result
        final = [result for result in results if result is not None]
        return self._finish(final, context)

    def _send_all(
        self, entries: list[Any], valid: list[tuple[int, str]], check_first: bool
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Send from a thread pool, queueing only a few invoices per thread (memory stays flat)."""
        from airflow_provider_vtex.models import Invoice

        def send(index: int, order_id: str) -> tuple[int, dict[str, Any]]:
            return index, self._send_one(order_id, Invoice.parse(entries[index]["invoice"]), check_first)

        backlog = self.max_concurrency * QUEUED_PER_THREAD
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="vtex-bulk") as pool:
            pending: set[Future[tuple[int, dict[str, Any]]]] = set()
            for index, order_id in valid:
                if len(pending) >= backlog:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
                pending.add(pool.submit(send, index, order_id))
            yield from (future.result() for future in wait(pending).done)

    def _send_one(self, order_id: str, invoice: Invoice, check_first: bool) -> dict[str, Any]:
        number = invoice.invoice_number
        try:
            if check_first and self.hook.find_invoice(order_id, number) is not None:
                if self.if_already_invoiced == "skip":
                    return _result(order_id, number, "already_invoiced")
                if self.if_already_invoiced == "fail":
                    return _result(
                        order_id,
                        number,
                        "failed",
                        error_code="already_invoiced",
                        error="VTEX already holds this invoice (if_already_invoiced='fail')",
                    )
            answer = self.hook.notify_invoice(order_id, invoice)
        except VtexError as exc:
            return _result(
                order_id,
                number,
                "failed",
                error_code=_error_code(exc),
                error=str(exc),
                retryable=exc.retryable,
            )
        outcome = "confirmed_by_read_back" if answer.get("readBack") else "sent"
        return _result(order_id, number, outcome, receipt=answer.get("receipt"))

    def _finish(self, results: list[dict[str, Any]], context: Context) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for result in results:
            counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
        self.log.info(
            "Bulk invoicing done: %s.", ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        )
        failed = [r for r in results if r["outcome"] in ("invalid", "failed")]
        worth_retrying = any(r.get("retryable") for r in failed)
        for result in results:
            result.pop("retryable", None)
        if not failed:
            return results
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is not None:
            ti.xcom_push(key="results", value=results)
        named = "; ".join(f"{r['order_id']} ({r['error_code']})" for r in failed[:NAMED_FAILURES])
        more = f"; and {len(failed) - NAMED_FAILURES} more" if len(failed) > NAMED_FAILURES else ""
        message = (
            f"{len(failed)} of {len(results)} invoices were not delivered to VTEX: {named}{more}. "
            "Per-invoice results (with VTEX's messages) are in the XCom 'results'."
        )
        if worth_retrying:
            raise AirflowException(message + " A retry of this task sends only what VTEX does not hold.")
        raise AirflowFailException(message + " None of these can succeed as they are: fix them and re-run.")


def _error_code(exc: VtexError) -> str:
    """A short code for the results: VTEX's status and error code, else the kind of failure."""
    cause = exc.last_error if isinstance(exc, VtexRetriesExhaustedError) else exc
    if isinstance(cause, VtexApiError) and cause.http_status:
        code = cause.error_code
        return f"HTTP {cause.http_status}" + (f" {code}" if code and code != str(cause.http_status) else "")
    return type(cause).__name__


def _entries(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise AirflowFailException(
                f"invoices is text but not JSON ({exc.msg} at column {exc.colno})."
            ) from None
    if not isinstance(value, list | tuple):
        raise AirflowFailException(
            f"invoices must be a list of {{'order_id': ..., 'invoice': {{...}}}}; got {type(value).__name__}."
        )
    return list(value)


def _parse_entry(index: int, entry: Any) -> tuple[str, Any] | dict[str, Any]:
    """``(order_id, raw invoice)`` for a valid entry, else its ``invalid`` result."""
    if not isinstance(entry, dict):
        return _result(
            None,
            None,
            "invalid",
            error_code="invalid_entry",
            error=f"invoices[{index}] must be a dict with 'order_id' and 'invoice'",
        )
    order_id = entry.get("order_id")
    raw = entry.get("invoice")
    number = raw.get("invoiceNumber", raw.get("invoice_number")) if isinstance(raw, dict) else None
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str) or not order_id.strip():
        return _result(
            None,
            number,
            "invalid",
            error_code="invalid_order_id",
            error=f"invoices[{index}].order_id must be a non-empty VTEX order id; got {order_id!r}",
        )
    try:
        from airflow_provider_vtex.models import Invoice  # pydantic models: built at run time, not parse time

        Invoice.parse(raw)
        return order_id.strip(), raw
    except VtexPayloadError as exc:
        return _result(order_id, number, "invalid", error_code="invalid_invoice", error=str(exc))


def _result(
    order_id: str | None,
    invoice_number: Any,
    outcome: str,
    *,
    receipt: str | None = None,
    error_code: str | None = None,
    error: str | None = None,
    retryable: bool = False,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "order_id": order_id,
        "invoice_number": invoice_number if isinstance(invoice_number, str) else None,
        "outcome": outcome,
        "receipt": receipt,
        "error_code": error_code,
        "error": error,
    }
    if retryable:
        result["retryable"] = True
    return result
