"""BulkInvoiceNotificationOperator: per-invoice results, partial failure, a retry that only finishes the
remainder, and the request-rate cap, against the sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_vtex.compat import AirflowException, AirflowFailException
from airflow_provider_vtex.operators.bulk import QUEUED_PER_THREAD, BulkInvoiceNotificationOperator
from tests import fault_report
from tests.integration.dag_runs import task_states, xcom_values
from vtex_sandbox import Fault, VtexSandbox

pytestmark = pytest.mark.airflow_dag


def test_invalid_and_failed_invoices_are_reported_after_all_were_tried(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_bulk_partial")
    ti = dag_run.get_task_instance("bulk")
    assert task_states(dag_run)["bulk"] == ["failed"]
    assert ti.try_number == 1  # an invalid payload and an unknown order: no retry can help
    results = xcom_values(dag_run, "bulk", "results")[0]
    assert [(r["order_id"], r["outcome"]) for r in results] == [
        ("70caf3941s6df1", "sent"),
        ("v502559llux-01", "invalid"),
        ("no-such-order", "failed"),
        ("1172452900791-01", "sent"),
    ]
    assert "invoiceNumber" in results[1]["error"]
    assert results[2]["error_code"] == "HTTP 404 OMS007"
    assert results[0]["receipt"] == sandbox.invoices("70caf3941s6df1")[0]["receipt"]
    assert sandbox.post_count("v502559llux-01") == 0  # validated first, never sent
    assert sandbox.order("70caf3941s6df1")["status"] == "invoiced"


def test_a_retry_sends_only_what_vtex_does_not_hold(run_dag: Callable[..., Any], monkeypatch: Any) -> None:
    orders = [f"bulk-{n:04d}" for n in range(40)]
    with VtexSandbox() as sandbox:
        for order in orders:
            sandbox.add_order(order, [{"id": "1", "price": 1000, "quantity": 1}])
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        sandbox.add_fault(Fault("invoice", "status", status=503, count=7))  # 7 sends fail, retryably
        dag_run = run_dag("vtex_test_bulk_retry")
        ti = dag_run.get_task_instance("bulk")
        assert task_states(dag_run)["bulk"] == ["success"]
        assert ti.try_number == 2
        assert sum(sandbox.post_count(order) for order in orders) == 40 + 7
        assert all(len(sandbox.invoices(order)) == 1 for order in orders)
        assert all(len(sandbox.invoices(order)[0]["receipts"]) == 1 for order in orders)  # no order re-sent
    results = xcom_values(dag_run, "bulk")[0]
    outcomes = [r["outcome"] for r in results]
    assert outcomes.count("sent") == 7
    assert outcomes.count("already_invoiced") == 33


def most_in_any_second(times: list[dt.datetime]) -> int:
    stamps = sorted(t.timestamp() for t in times)
    return max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)


def test_rate_cap_is_honoured_and_vtex_never_throttles(monkeypatch: Any) -> None:
    with VtexSandbox(auto_create_orders=True) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        sandbox.add_fault(Fault("*", "rate_limit", rps=10, retry_after=1))  # VTEX throttles above 10/s
        invoices = [
            {
                "order_id": f"rate-{n}",
                "invoice": {
                    "type": "Output",
                    "invoiceNumber": f"NF-{n}",
                    "invoiceValue": 100,
                    "issuanceDate": "2024-03-01T10:00:00-03:00",
                    "items": [{"id": "1", "price": 100, "quantity": 1}],
                },
            }
            for n in range(25)
        ]
        operator = BulkInvoiceNotificationOperator(
            task_id="bulk", invoices=invoices, max_concurrency=8, max_requests_per_second=10
        )
        results = operator.execute(context={})  # type: ignore[arg-type]
        log = sandbox.requests
    assert [r["outcome"] for r in results] == ["sent"] * 25
    assert [e["status"] for e in log].count(429) == 0
    assert most_in_any_second([dt.datetime.fromisoformat(e["time"][:26] + e["time"][27:]) for e in log]) <= 10


def test_bad_arguments_fail_at_once() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        BulkInvoiceNotificationOperator(task_id="b", invoices=[], max_concurrency=0)
    with pytest.raises(AirflowFailException, match="must be a list"):
        BulkInvoiceNotificationOperator(task_id="b2", invoices={"a": 1}).execute(context={})  # type: ignore[arg-type]
    assert BulkInvoiceNotificationOperator(task_id="b3", invoices="[]").execute(context={}) == []  # type: ignore[arg-type]


def test_retryable_failures_leave_airflow_retries_to_act(monkeypatch: Any) -> None:
    with VtexSandbox() as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        sandbox.add_fault(Fault("invoice", "status", status=503))
        operator = BulkInvoiceNotificationOperator(
            task_id="bulk",
            invoices=[
                {
                    "order_id": "70caf3941s6df1",
                    "invoice": {
                        "type": "Output",
                        "invoiceNumber": "NF-1",
                        "invoiceValue": 7497,
                        "issuanceDate": "2024-03-01T10:00:00-03:00",
                        "items": [{"id": "2001", "price": 2499, "quantity": 3}],
                    },
                }
            ],
            # 503 on a POST may follow a commit: read back (briefly here) before the one resend
            hook_params={
                "max_retries": 1,
                "backoff_initial": 0.01,
                "readback_timeout": 0.5,
                "readback_interval": 0.1,
            },
        )
        with pytest.raises(AirflowException) as caught:
            operator.execute(context={})  # type: ignore[arg-type]
    assert not isinstance(caught.value, AirflowFailException)
    assert "70caf3941s6df1 (HTTP 503)" in str(caught.value)


# ------------------------------------------------------------------ the rows, in real Airflow
def invoiced_once(sandbox: VtexSandbox, orders: list[str]) -> dict[str, int]:
    """Duplicates and losses as the sandbox counts them."""
    held = sandbox.stats()["orders"]
    return {
        "duplicates": sum(held.get(o, {}).get("duplicates", 0) for o in orders),
        "lost": sum(1 for o in orders if not held.get(o, {}).get("invoices")),
    }


def add_orders(sandbox: VtexSandbox, prefix: str, count: int) -> list[str]:
    """Orders as ``vtex_test_bulk_faults`` invoices them (they exist before they are invoiced)."""
    orders = [f"{prefix}-{n:05d}" for n in range(count)]
    for order in orders:
        sandbox.add_order(order, [{"id": "1", "price": 1000, "quantity": 1}])
    return orders


def test_identical_entries_are_sent_once_and_conflicting_ones_not_at_all(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_bulk_duplicates")
    states = task_states(dag_run)
    # The same {order_id, invoice} three times, with check_existing="always": one POST, three results.
    assert states["duplicates"] == ["success"]
    assert sandbox.post_count("70caf3941s6df1") == 1
    results = xcom_values(dag_run, "duplicates")[0]
    assert [r["outcome"] for r in results] == ["sent"] * 4
    assert len({results[i]["receipt"] for i in (0, 1, 3)}) == 1
    assert sandbox.stats()["orders"]["70caf3941s6df1"]["duplicates"] == 0
    # Two different invoices with one order and number: both refused before anything is sent, no retry.
    assert states["conflicts"] == ["failed"]
    assert dag_run.get_task_instance("conflicts").try_number == 1
    assert sandbox.post_count("v502559llux-01") == 0
    conflicts = xcom_values(dag_run, "conflicts", "results")[0]
    assert [r["error_code"] for r in conflicts] == ["conflicting_duplicate"] * 2
    assert "invoices[0] and invoices[1]" in conflicts[0]["error"]


def test_truncated_answers_during_a_bulk_run_neither_abort_it_nor_duplicate(
    run_dag: Callable[..., Any], monkeypatch: Any
) -> None:
    with VtexSandbox() as sandbox:
        orders = add_orders(sandbox, "trunc", 60)
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        # The sandbox counts a rule's arrivals across all 8 threads, so which request a rule cuts depends on
        # the threads' order: unbounded, one read-back can be cut on each of its 4 attempts (seen in about
        # 1 run in 15), and the task then rightly fails retryably. The two rules that can defeat a request
        # fire at most 3 times in all, fewer than any one request's 4 attempts, so whatever the threads'
        # order the first try delivers everything. A cut after the write was applied is always recovered
        # (read back, confirmed), so that rule stays unbounded.
        sandbox.add_fault(Fault("invoice", "truncated_after_commit", every=5))  # applied, answer cut short
        sandbox.add_fault(Fault("invoice", "truncated", every=7, count=3))  # not applied, answer cut short
        sandbox.add_fault(
            Fault("get_order", "truncated", status=200, every=4, count=3)
        )  # a read-back cut short
        dag_run = run_dag("vtex_test_bulk_faults", run_conf={"count": 60, "prefix": "trunc"})
        truncated = sum(1 for e in sandbox.requests if e["fault"] in ("truncated", "truncated_after_commit"))
        counts = invoiced_once(sandbox, orders)
    fault_report.record(
        "faults",
        {
            "fault": f"bulk of 60 invoices, {truncated} answers truncated (before or after VTEX applied the write)",
            "invoice task": f"{task_states(dag_run)['bulk'][0]} (try {dag_run.get_task_instance('bulk').try_number})",
            "tracking task": "-",
            "POSTs received": "-",
            "invoices held": 60 - counts["lost"],
            "duplicates": counts["duplicates"],
            "lost": counts["lost"],
            "why": "a cut answer is ambiguous: read back before any resend; no ChunkedEncodingError escapes",
        },
    )
    assert truncated >= 15
    assert task_states(dag_run)["bulk"] == ["success"]
    assert dag_run.get_task_instance("bulk").try_number == 1
    assert counts == {"duplicates": 0, "lost": 0}
    outcomes = [r["outcome"] for r in xcom_values(dag_run, "bulk")[0]]
    assert set(outcomes) == {"sent", "confirmed_by_read_back"}


@pytest.mark.parametrize("status", [503, 429])
def test_a_total_outage_stops_the_chunk_early_and_fails_it_retryably(
    run_dag: Callable[..., Any], monkeypatch: Any, status: int
) -> None:
    count = 1000
    with VtexSandbox() as sandbox:
        add_orders(sandbox, "down", count)
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        if status == 429:
            sandbox.add_fault(Fault("*", "rate_limit", retry_after=0))
        else:
            sandbox.add_fault(Fault("*", "status", status=503))
        dag_run = run_dag("vtex_test_bulk_faults", run_conf={"count": count, "prefix": "down"})
        requests_seen = len(sandbox.requests)
        posts = sandbox.post_count()
    ti = dag_run.get_task_instance("bulk")
    fault_report.record(
        "faults",
        {
            "fault": f"total outage, every answer {status}: bulk of {count:,} invoices",
            "invoice task": f"{task_states(dag_run)['bulk'][0]} (try {ti.try_number}), {posts} POSTs, {requests_seen} requests",
            "tracking task": "-",
            "POSTs received": posts,
            "invoices held": "-",
            "duplicates": 0,
            "lost": "none silently: each listed in `results`",
            "why": "the outage breaker stops the chunk after 10 invoices in a row failed; the rest are listed as not tried, the task fails retryably",
        },
    )
    assert task_states(dag_run)["bulk"] == ["failed"]
    assert ti.try_number == 2  # retryable: the task's retry ran (and met the outage too)
    # Per try, the breaker lets through the invoices before it opened and those already queued; each
    # costs at most 4 attempts (max_retries=3), the POST's read-back included. Without the breaker:
    # every one of the 1,000 invoices, to the per-call limit, on each try.
    tried_per_try = 10 + 8 * QUEUED_PER_THREAD  # max_consecutive_outages + queued (8 threads)
    assert posts <= tried_per_try * 4
    assert requests_seen <= 2 * tried_per_try * 5
    results = xcom_values(dag_run, "bulk", "results")[0]
    not_tried = [r for r in results if r["outcome"] == "not_tried"]
    assert len(not_tried) >= count - 2 * tried_per_try
    assert all(r["error_code"] == "outage" for r in not_tried)


def test_the_rate_cap_holds_at_the_server_with_one_core_busy(
    run_dag: Callable[..., Any], monkeypatch: Any
) -> None:
    """40 invoices at max_requests_per_second=10 while another process keeps a core busy: no one-second
    window at the sandbox holds more than 10 requests (the limiter guarantees it by construction)."""
    import subprocess
    import sys

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with VtexSandbox(auto_create_orders=True) as sandbox:
            monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
            sandbox.add_fault(Fault("*", "rate_limit", rps=10, retry_after=1))  # VTEX throttles above 10/s
            dag_run = run_dag("vtex_test_bulk_rate_cap")
            stats = sandbox.stats()
            throttled = sandbox.count(status=429)
    finally:
        busy.kill()
        busy.wait(timeout=10)
    assert task_states(dag_run)["bulk"] == ["success"]
    assert stats["routes"]["invoice"]["requests"] == 40
    assert stats["busiestSecond"]["count"] <= 10
    assert throttled == 0


def test_a_lost_write_whose_read_back_also_failed_counts_as_an_outage() -> None:
    """What the breaker counts when every answer is 503: the POST's answer is ambiguous, so it is read
    back, and the read-back fails too. The breaker must count that, or it never opens."""
    from airflow_provider_vtex.client.rules import is_outage
    from airflow_provider_vtex.exceptions import (
        VtexOutcomeUnknownError,
        VtexRetriesExhaustedError,
        VtexServerError,
    )

    def unknown(read_error: Exception | None) -> VtexOutcomeUnknownError:
        try:
            raise VtexOutcomeUnknownError("lost", order_id="o", what="invoice") from read_error
        except VtexOutcomeUnknownError as exc:
            return exc

    down = VtexServerError("503", http_status=503, method="GET", path="/o")
    assert is_outage(unknown(VtexRetriesExhaustedError("gave up", attempts=4, last_error=down)))
    assert not is_outage(unknown(None))  # the read-back window outlived the call's budget: not an outage


def test_a_bulk_soak_with_one_answer_in_ten_faulted_delivers_every_invoice_once(
    run_dag: Callable[..., Any], monkeypatch: Any, pytestconfig: pytest.Config
) -> None:
    """About 10 % of the answers are 429, 503 or a 500 after VTEX applied the invoice: every invoice
    arrives, none twice.

    1,000 invoices in one task by default (about 1,700 answers, each fault kind about 55 times: the
    interleavings of faults, retries and read-backs under eight threads are all there); ``make
    fault-matrix`` runs 5,000 (``--soak-invoices``), the size the fault matrix reports, and the runs on
    Airflow 2.11 and the lowest versions, which prove the same code on other versions, 200 (Makefile's
    COMPAT_RUN). Time, not proof, sets the default: client and sandbox share one process here, about 10 ms
    an invoice.
    """
    count = int(pytestconfig.getoption("--soak-invoices"))
    with VtexSandbox(max_log=200_000) as sandbox:
        orders = add_orders(sandbox, "soak", count)
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        sandbox.add_fault(Fault("*", "rate_limit", every=23, retry_after=0))
        sandbox.add_fault(Fault("*", "status", status=503, every=25))
        sandbox.add_fault(Fault("invoice", "error_after_commit", every=29))
        dag_run = run_dag("vtex_test_bulk_faults", run_conf={"count": count, "prefix": "soak"})
        faulted = sum(1 for e in sandbox.requests if e["fault"])
        answers = len(sandbox.requests)
        counts = invoiced_once(sandbox, orders)
    ti = dag_run.get_task_instance("bulk")
    fault_report.record(
        "faults",
        {
            "fault": f"{count:,} invoices in one bulk task, {faulted:,} of {answers:,} answers 429, 503 or 500 after commit",
            "invoice task": f"{task_states(dag_run)['bulk'][0]} (try {ti.try_number})",
            "tracking task": "-",
            "POSTs received": "-",
            "invoices held": count - counts["lost"],
            "duplicates": counts["duplicates"],
            "lost": counts["lost"],
            "why": "429 waited out and resent; 503 and 500-after-commit read back before any resend",
        },
    )
    assert faulted >= answers // 12  # about one in ten (rules that coincide fire once)
    assert task_states(dag_run)["bulk"] == ["success"]
    assert counts == {"duplicates": 0, "lost": 0}
