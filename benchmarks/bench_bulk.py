"""Throughput and rate limiting of ``BulkInvoiceNotificationOperator`` against the sandbox.

1. **Throughput under latency.** The sandbox (own process) answers each invoice POST after 50 ms (fault
   ``latency``); with ``max_concurrency=16`` no client can beat 16 / 0.05 s = 320 invoices/s. The
   operator sends N invoices for N different orders (``--auto-create-orders`` makes each order from its
   first invoice); achieved invoices/s as a share of that bound, median of several runs.
2. **Rate limit.** The sandbox answers 429 to whatever exceeds R requests in its one-second window
   (fault ``rate_limit`` with ``rps=R``); the operator runs with ``max_requests_per_second=R``. From the
   sandbox's request log: the most invoice requests that arrived in any one-second window (sliding),
   and how many 429s it answered.

Run::

    .venv/bin/python benchmarks/bench_bulk.py [--invoices 800] [--runs 3] [--rate 40] [--rate-invoices 240]
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from datetime import datetime
from typing import Any

from _common import (
    Report,
    SandboxProcess,
    bulk_entries,
    create_orders,
    median,
    prepare_environment,
    print_header,
    sandbox_process,
    sandbox_supports,
    silence_logging,
    use_connection,
    verdict,
)

CONCURRENCY = 16
LATENCY = 0.05
TARGET_SHARE = 0.85


def run_bulk(
    sandbox: SandboxProcess, entries: list[dict[str, Any]], auto_create: bool, **operator_kwargs: Any
) -> tuple[float, list[dict[str, Any]]]:
    """Seconds that ``execute`` took, and its results (orders created beforehand when needed)."""
    from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

    if not auto_create:
        create_orders(sandbox, entries)
    operator = BulkInvoiceNotificationOperator(
        task_id="bulk", invoices=entries, vtex_conn_id=use_connection(sandbox), **operator_kwargs
    )
    started = time.perf_counter()
    results = operator.execute(context={})
    elapsed = time.perf_counter() - started
    operator.hook.close()
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    if outcomes != {"sent": len(entries)}:
        raise RuntimeError(f"not every invoice was sent: {outcomes}")
    return elapsed, results


def arrival_times(sandbox: SandboxProcess) -> tuple[list[float], int]:
    """Arrival times (s) of the invoice POSTs in the sandbox's log, and how many it answered with 429."""
    entries = sandbox.admin("GET", "requests")["requests"]
    times: list[float] = []
    limited = 0
    for entry in entries:
        if entry.get("route") != "invoice":
            continue
        stamp = entry["time"]  # .NET style: 7 fractional digits; Python reads 6
        head, _, rest = stamp.partition(".")
        fraction, offset = rest[:7], rest[7:]
        times.append(datetime.fromisoformat(f"{head}.{fraction[:6]}{offset}").timestamp())
        if entry.get("status") == 429:
            limited += 1
    return sorted(times), limited


def busiest_second(times: list[float]) -> int:
    """The most arrivals within any window [t, t + 1 s) starting at an arrival."""
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=800, help="invoices per throughput run")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs")
    parser.add_argument("--rate", type=float, default=40.0, help="R: the rate limit, requests/s")
    parser.add_argument("--rate-invoices", type=int, default=240, help="invoices sent under the rate limit")
    args = parser.parse_args(argv)

    prepare_environment()
    print_header("bench_bulk: BulkInvoiceNotificationOperator throughput and rate limit")
    report = Report("bench_bulk", "Bulk invoicing: throughput and the rate cap")
    auto_create = sandbox_supports("--auto-create-orders")
    create = ["--auto-create-orders"] if auto_create else []
    print(
        "   orders: "
        + ("made by the sandbox from each first invoice (--auto-create-orders)" if auto_create else "")
        + ("" if auto_create else "created through POST /_sandbox/orders before timing")
    )
    silence_logging()

    bound = CONCURRENCY / LATENCY
    print(
        f"-- 1. throughput: {args.invoices} invoices, max_concurrency={CONCURRENCY}, sandbox latency "
        f"{LATENCY * 1000:.0f} ms per invoice POST -> bound {bound:.0f} invoices/s"
    )
    rates: list[float] = []
    with sandbox_process(
        *create, "--fault", f"invoice:latency:latency={LATENCY}", "--max-log", "1000"
    ) as sandbox:
        run_bulk(sandbox, bulk_entries("WARM", 2 * CONCURRENCY), auto_create, max_concurrency=CONCURRENCY)
        for run in range(args.runs):
            entries = bulk_entries(f"T{run}", args.invoices)
            elapsed, _ = run_bulk(sandbox, entries, auto_create, max_concurrency=CONCURRENCY)
            rates.append(args.invoices / elapsed)
            print(
                f"   run {run + 1}: {elapsed:.2f} s, {rates[-1]:.0f} invoices/s ({rates[-1] / bound:.1%} of bound)"
            )
    share = median(rates) / bound
    throughput_line = (
        f"   throughput: median {median(rates):.0f} invoices/s = {share:.1%} of {bound:.0f}/s "
        f"(target >= {TARGET_SHARE:.0%}: {verdict(share >= TARGET_SHARE)})"
    )
    print(throughput_line)

    rate = args.rate
    print(
        f"-- 2. rate limit: {args.rate_invoices} invoices, max_concurrency={CONCURRENCY}, "
        f"max_requests_per_second={rate:g}; the sandbox answers 429 above {rate:g} requests per second"
    )
    with sandbox_process(
        *create, "--fault", f"invoice:rate_limit:rps={rate:g}", "--retry-after", "1"
    ) as sandbox:
        entries = bulk_entries("RATE", args.rate_invoices)
        elapsed, _ = run_bulk(
            sandbox, entries, auto_create, max_concurrency=CONCURRENCY, max_requests_per_second=rate
        )
        times, limited = arrival_times(sandbox)
    peak = busiest_second(times)
    print(
        f"   {len(times)} invoice POSTs in {elapsed:.2f} s ({len(entries) / elapsed:.1f} invoices/s; "
        f"at least {(len(entries) - rate) / rate:.2f} s under a sliding one-second window of {rate:g})"
    )
    print(
        f"   busiest one-second window at the sandbox: {peak} requests (target <= {rate:g}: "
        f"{verdict(peak <= rate)}); 429 answers: {limited} (target 0: {verdict(limited == 0)})"
    )
    report.row(
        f"Bulk: {args.invoices} invoices, `max_concurrency={CONCURRENCY}`, sandbox answering after "
        f"{LATENCY * 1000:.0f} ms (median of {args.runs} runs)",
        f"{median(rates):.0f} invoices/s, **{share:.1%}** of the {bound:.0f}/s bound",
        f">= {TARGET_SHARE:.0%} ({verdict(share >= TARGET_SHARE)})",
    )
    report.row(
        f"Bulk: {args.rate_invoices} invoices with `max_requests_per_second={rate:g}`, sandbox answering "
        f"429 above {rate:g} requests/s",
        f"busiest second at the sandbox: **{peak}** requests; **{limited}** answers 429",
        f"<= {rate:g}; 0 ({verdict(peak <= rate and limited == 0)})",
    )
    report.write()
    print("-- against the targets")
    print(throughput_line)
    print(
        f"   rate limit: busiest second {peak} <= {rate:g}: {verdict(peak <= rate)}; "
        f"429s {limited} == 0: {verdict(limited == 0)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
