"""BulkInvoiceNotificationOperator: many invoices in one task, concurrently, under a rate cap.

Why: one mapped task per order costs Airflow a task instance each (scheduling, a worker slot, a
process), which dwarfs one HTTP call; one task sending serially waits on every round trip. This task
validates every invoice, then sends the valid ones from a thread pool over the hook's one pooled session,
never letting VTEX see more requests per second than asked, pausing every thread when VTEX answers 429,
and stopping early when VTEX is down instead of trying each invoice to exhaustion.

The decision "send or not" is :mod:`~airflow_provider_vtex.client.invoice_once`'s, through the hook
(:meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.check_invoice_first` for the read-first step,
:meth:`~airflow_provider_vtex.hooks.vtex.VtexHook.send_invoice` for the rest); this task only schedules it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vtex.client.invoice_once import (
    CheckExisting,
    IfAlreadyInvoiced,
    check_invoice_options,
    read_first,
)
from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.exceptions import VtexApiError, VtexError, VtexPayloadError, root_cause
from airflow_provider_vtex.operators.base import (
    VTEX_TEMPLATE_FIELDS,
    VtexBaseOperator,
    attempt_started_at,
    json_text_or_value,
    task_instance,
    try_number,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence
    from concurrent.futures import Future

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.models import InvoiceResult, Outcome

#: How many failed orders the task's error message names before summarising the rest.
NAMED_FAILURES = 20
#: Invoices queued per sending thread: enough to keep every thread busy, few enough to keep memory flat.
QUEUED_PER_THREAD = 4


@dataclass(slots=True)
class _Entry:
    """One input entry after validation: where it goes, or why it cannot."""

    order_id: str | None
    invoice_number: str | None
    fingerprint: str | None = None  # the wire invoice's digest, to spot duplicates without keeping it
    problem: str | None = None
    problem_code: str | None = None
    same_as: int | None = None  # an identical earlier entry: sent once, reported for each


@dataclass(slots=True)
class _Result:
    """The outcome of one invoice, with what the task's final verdict needs."""

    outcome: Outcome
    receipt: str | None = None
    error_code: str | None = None
    error: str | None = None
    retryable: bool = False
    outage: bool = False

    @classmethod
    def of(cls, result: InvoiceResult) -> _Result:
        return cls(result.outcome, receipt=result.receipt)

    @classmethod
    def failure(cls, exc: VtexError) -> _Result:
        from airflow_provider_vtex.client.rules import is_outage
        from airflow_provider_vtex.models import Outcome

        return cls(
            Outcome.FAILED,
            error_code=_error_code(exc),
            error=str(exc),
            retryable=exc.retryable,
            outage=is_outage(exc),
        )


class BulkInvoiceNotificationOperator(VtexBaseOperator):
    """Send many invoices to VTEX from one task, concurrently and under a request-rate cap.

    :param invoices: (templated) a list of ``{"order_id": ..., "invoice": {...}}`` (each invoice as
        :class:`~airflow_provider_vtex.operators.invoice.InvoiceNotificationOperator` accepts it), e.g. the
        XCom list of an ERP task, or that list as JSON text. An entry repeated identically is sent once and
        reported for each; two different invoices with the same order and invoice number are both refused
        before anything is sent.
    :param max_concurrency: invoices in flight at once (and the size of the HTTP connection pool).
    :param max_requests_per_second: cap on requests per second at VTEX for this task, read-backs and
        retries included; ``None`` for no cap. N such tasks running at once never exceed N times it.
    :param if_already_invoiced: ``"skip"`` (default), ``"fail"`` or ``"resend"``, as for the single
        invoice operator.
    :param check_existing: ``"on_retry"`` (default: a task retry reads each order first, waiting once for
        VTEX's visibility window, so it sends only what VTEX does not hold) or ``"always"``.
    :param max_consecutive_outages: stop sending after this many invoices in a row failed because VTEX is
        down or throttling (503/429 after retries, connection errors); the task then fails retryably with
        the untried invoices listed, so an outage costs minutes, not hours.
    :param vtex_conn_id: the ``vtex`` connection to use (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, one result per input entry, in input order: ``{"order_id", "invoice_number",
        "outcome", "receipt", "error_code", "error"}``; ``outcome`` is ``sent``, ``already_invoiced``,
        ``confirmed_by_read_back``, ``invalid`` (refused before sending), ``failed`` or ``not_tried``
        (stopped by the outage breaker). When any invoice is not delivered, the results are pushed under
        the XCom key ``results`` and the task fails after attempting what it could, naming the orders.
    """

    template_fields: Sequence[str] = ("invoices", *VTEX_TEMPLATE_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"invoices": "json"}

    def __init__(
        self,
        *,
        invoices: list[dict[str, Any]] | str,
        max_concurrency: int = 8,
        max_requests_per_second: float | None = None,
        if_already_invoiced: IfAlreadyInvoiced = "skip",
        check_existing: CheckExisting = "on_retry",
        max_consecutive_outages: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency!r}")
        if max_consecutive_outages < 1:
            raise ValueError(f"max_consecutive_outages must be at least 1, got {max_consecutive_outages!r}")
        check_invoice_options(if_already_invoiced, check_existing)
        self.invoices = invoices
        self.max_concurrency = max_concurrency
        self.max_requests_per_second = max_requests_per_second
        self.if_already_invoiced = if_already_invoiced
        self.check_existing = check_existing
        self.max_consecutive_outages = max_consecutive_outages

    def hook_parameters(self) -> dict[str, Any]:
        return {
            "pool_maxsize": self.max_concurrency,
            "max_requests_per_second": self.max_requests_per_second,
            **super().hook_parameters(),
        }

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_vtex.models import Outcome  # at run time, not DAG parse time

        started = attempt_started_at()
        raw = _entries(self.invoices)
        if not raw:
            return []
        with self.vtex_errors():
            self.hook.get_conn()  # read the connection (its route set decides the contract) and build the session
        entries = self._validate(raw)
        results: dict[int, _Result] = {
            index: _Result(Outcome.INVALID, error_code=entry.problem_code, error=entry.problem)
            for index, entry in enumerate(entries)
            if entry.problem is not None
        }
        to_send = [
            index for index, entry in enumerate(entries) if entry.problem is None and entry.same_as is None
        ]
        if len(results):
            self.log.warning(
                "%d of %d invoices are invalid and will not be sent.", len(results), len(entries)
            )
        retry = try_number(context) > 1
        if to_send:
            breaker = _OutageBreaker(self.max_consecutive_outages)
            if read_first(self.check_existing, retry=retry):
                to_send = self._skip_held(entries, to_send, results, breaker)
                if retry and to_send and not breaker.open:
                    self.hook.wait_out_visibility_window(started)
            self.log.info(
                "Sending %d invoices with %d in flight at most%s%s.",
                len(to_send),
                self.max_concurrency,
                f", at most {self.max_requests_per_second:g} requests/s"
                if self.max_requests_per_second
                else "",
                ", reading each order first (retry)" if retry else "",
            )
            self._run(to_send, results, breaker, lambda index: self._send(raw, index, retry, started))
        for index, entry in enumerate(entries):
            if entry.same_as is not None:
                results[index] = results[entry.same_as]
        return self._finish([(entries[i], results[i]) for i in range(len(entries))], context)

    # ------------------------------------------------------------------ validation
    def _validate(self, raw: list[Any]) -> list[_Entry]:
        """Check every entry before sending any; keep only ids and a digest (memory stays flat)."""
        entries: list[_Entry] = []
        first_of: dict[tuple[str, str], int] = {}
        for index, item in enumerate(raw):
            entry = self._check_entry(index, item)
            entries.append(entry)
            if entry.problem is not None:
                continue
            key = (str(entry.order_id), str(entry.invoice_number))
            first = first_of.setdefault(key, index)
            if first == index:
                continue
            original = entries[first]
            if original.fingerprint == entry.fingerprint:
                entry.same_as = original.same_as if original.same_as is not None else first
                continue
            message = (
                f"invoices[{first}] and invoices[{index}] are different invoices with the same order "
                f"{key[0]} and invoice number {key[1]}; VTEX keeps one invoice per number: fix the ERP export"
            )
            for conflicting in (original, entry):
                conflicting.problem, conflicting.problem_code = message, "conflicting_duplicate"
        return entries

    def _check_entry(self, index: int, item: Any) -> _Entry:
        if not isinstance(item, dict):
            return _Entry(
                None,
                None,
                problem=f"invoices[{index}] must be a dict with 'order_id' and 'invoice'",
                problem_code="invalid_entry",
            )
        raw_invoice = item.get("invoice")
        number = (
            raw_invoice.get("invoiceNumber", raw_invoice.get("invoice_number"))
            if isinstance(raw_invoice, dict)
            else None
        )
        try:
            order_id = self.hook.checked_order_id(item.get("order_id"))
            model = self.hook.parse_invoice(raw_invoice)
        except VtexPayloadError as exc:
            shown = item.get("order_id")
            return _Entry(
                shown if isinstance(shown, str) else None,
                number if isinstance(number, str) else None,
                problem=str(exc),
                problem_code="invalid_payload",
            )
        digest = hashlib.sha256(json.dumps(model.to_wire(), sort_keys=True).encode()).hexdigest()
        return _Entry(order_id, model.invoice_number, fingerprint=digest)

    # ------------------------------------------------------------------ sending
    def _skip_held(
        self, entries: list[_Entry], indices: list[int], results: dict[int, _Result], breaker: _OutageBreaker
    ) -> list[int]:
        """Read each order once; settle the invoices VTEX holds. Returns those it does not show (yet)."""
        missing: list[int] = []
        lock = threading.Lock()

        def check(index: int) -> _Result | None:
            entry = entries[index]
            assert entry.order_id is not None
            assert entry.invoice_number is not None
            decided = self.hook.check_invoice_first(
                entry.order_id, entry.invoice_number, self.if_already_invoiced
            )
            if decided is None:  # VTEX does not show it (yet), or resend on purpose
                with lock:
                    missing.append(index)
                return None
            return _Result.of(decided)

        self._run(indices, results, breaker, check)
        return sorted(missing)

    def _send(self, raw: list[Any], index: int, retry: bool, started: dt.datetime) -> _Result:
        item = raw[index]
        result = self.hook.send_invoice(
            item["order_id"],
            item["invoice"],
            if_already_invoiced=self.if_already_invoiced,
            check_first=retry,
            maybe_sent_at=started if retry else None,
        )
        return _Result.of(result)

    def _run(
        self,
        indices: list[int],
        results: dict[int, _Result],
        breaker: _OutageBreaker,
        work: Callable[[int], _Result | None],
    ) -> None:
        """Run ``work`` for each index from a thread pool, queueing only a few per thread, and stop
        starting new ones once the outage breaker opens."""
        from concurrent.futures import (  # at run time, not parse time
            FIRST_COMPLETED,
            ThreadPoolExecutor,
            wait,
        )

        from airflow_provider_vtex.models import Outcome  # at run time, not DAG parse time

        def guarded(index: int) -> tuple[int, _Result | None]:
            try:
                return index, work(index)
            except VtexError as exc:
                return index, _Result.failure(exc)

        def record(done: set[Future[tuple[int, _Result | None]]]) -> None:
            for future in done:
                index, result = future.result()
                breaker.record(result)
                if result is not None:
                    results[index] = result

        backlog = self.max_concurrency * QUEUED_PER_THREAD
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="vtex-bulk") as pool:
            pending: set[Future[tuple[int, _Result | None]]] = set()
            for position, index in enumerate(indices):
                if breaker.open:
                    untried = indices[position:]
                    self.log.error(
                        "%d invoices in a row failed because VTEX is down or throttling: not trying the other %d.",
                        breaker.threshold,
                        len(untried),
                    )
                    for skipped in untried:
                        results[skipped] = _Result(
                            Outcome.NOT_TRIED,
                            error_code="outage",
                            error="not tried: VTEX was down or throttling (outage breaker open)",
                            retryable=True,
                        )
                    break
                if len(pending) >= backlog:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    record(done)
                pending.add(pool.submit(guarded, index))
            record(wait(pending).done)

    # ------------------------------------------------------------------ verdict
    def _finish(self, pairs: list[tuple[_Entry, _Result]], context: Context) -> list[dict[str, Any]]:
        from airflow_provider_vtex.models import Outcome  # at run time, not DAG parse time

        results = [
            {
                "order_id": entry.order_id,
                "invoice_number": entry.invoice_number,
                "outcome": result.outcome.value,
                "receipt": result.receipt,
                "error_code": result.error_code,
                "error": result.error,
            }
            for entry, result in pairs
        ]
        counts: dict[str, int] = {}
        for _, result in pairs:
            counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
        self.log.info(
            "Bulk invoicing done: %s.", ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        )
        failed = [
            (entry, result)
            for entry, result in pairs
            if result.outcome in (Outcome.INVALID, Outcome.FAILED, Outcome.NOT_TRIED)
        ]
        if not failed:
            return results
        for entry, result in failed[:3]:
            self.log.error("Order %s, invoice %s: %s", entry.order_id, entry.invoice_number, result.error)
        ti = task_instance(context)
        if ti is not None:
            ti.xcom_push(key="results", value=results)
        named = "; ".join(
            f"{entry.order_id} ({result.error_code})" for entry, result in failed[:NAMED_FAILURES]
        )
        more = f"; and {len(failed) - NAMED_FAILURES} more" if len(failed) > NAMED_FAILURES else ""
        message = (
            f"{len(failed)} of {len(results)} invoices were not delivered to VTEX: {named}{more}. "
            "Per-invoice results (with VTEX's messages) are in the XCom 'results'."
        )
        if any(result.retryable for _, result in failed):
            raise AirflowException(message + " A retry of this task sends only what VTEX does not hold.")
        raise AirflowFailException(message + " None of these can succeed as they are: fix them and re-run.")


class _OutageBreaker:
    """Opens after ``threshold`` consecutive results that say VTEX is down or throttling."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._in_a_row = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self._in_a_row >= self.threshold

    def record(self, result: _Result | None) -> None:
        with self._lock:
            self._in_a_row = self._in_a_row + 1 if result is not None and result.outage else 0


def _error_code(exc: VtexError) -> str:
    """A short code for the results: VTEX's status and error code, else the kind of failure."""
    cause = root_cause(exc)
    if isinstance(cause, VtexApiError) and cause.http_status:
        code = cause.error_code
        return f"HTTP {cause.http_status}" + (f" {code}" if code and code != str(cause.http_status) else "")
    return type(cause).__name__


def _entries(value: Any) -> list[Any]:
    value = json_text_or_value(value, "invoices", plain_text=False)
    if not isinstance(value, list | tuple):
        raise AirflowFailException(
            f"invoices must be a list of {{'order_id': ..., 'invoice': {{...}}}}; got {type(value).__name__}."
        )
    return list(value)
