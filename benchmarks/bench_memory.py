"""Peak memory of a 20,000-invoice ``BulkInvoiceNotificationOperator`` run, in the client process.

The sandbox runs in its own process (``--auto-create-orders``, a request log bounded by ``--max-log``), so
only the operator's memory is measured: the peak resident set size (``ru_maxrss``) after the run minus
before it, once the input list exists (it is the task's input, e.g. an XCom, whatever the operator
does) and after a small warm-up run (imports, session, thread pool). Because ``ru_maxrss`` is a
high-water mark that imports may have set above the RSS at the start, the growth is also taken from the
current RSS before the run; the larger of the two is held against the target. Run::

    .venv/bin/python benchmarks/bench_memory.py [--invoices 20000]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time

from _common import (
    Report,
    bulk_entries,
    create_orders,
    prepare_environment,
    print_header,
    sandbox_process,
    sandbox_supports,
    silence_logging,
    use_connection,
    verdict,
)

TARGET_MB = 100.0
CONCURRENCY = 16


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=20_000)
    args = parser.parse_args(argv)

    prepare_environment()
    print_header("bench_memory: peak RSS growth of a bulk invoicing run (client process)")
    report = Report("bench_memory", "Bulk invoicing: memory")
    auto_create = sandbox_supports("--auto-create-orders")
    create = ["--auto-create-orders"] if auto_create else []
    silence_logging()
    from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator

    with sandbox_process(*create, "--max-log", "1000") as sandbox:
        conn_id = use_connection(sandbox)
        warm = bulk_entries("MEMWARM", 200)
        if not auto_create:
            create_orders(sandbox, warm)
        BulkInvoiceNotificationOperator(
            task_id="warm", invoices=warm, max_concurrency=CONCURRENCY, vtex_conn_id=conn_id
        ).execute(context={})

        rss_start = current_rss_mb()
        entries = bulk_entries("MEM", args.invoices)
        if not auto_create:
            create_orders(sandbox, entries)
        gc.collect()
        input_mb = current_rss_mb() - rss_start
        peak_before, rss_before = peak_rss_mb(), current_rss_mb()
        operator = BulkInvoiceNotificationOperator(
            task_id="bulk", invoices=entries, max_concurrency=CONCURRENCY, vtex_conn_id=conn_id
        )
        started = time.perf_counter()
        results = operator.execute(context={})
        elapsed = time.perf_counter() - started
        peak_after, rss_after = peak_rss_mb(), current_rss_mb()
    sent = sum(1 for result in results if result["outcome"] == "sent")
    growth_peak = peak_after - peak_before
    growth_from_current = peak_after - rss_before
    held = max(growth_peak, growth_from_current)
    print(
        f"   {sent} of {len(entries)} invoices sent in {elapsed:.1f} s ({len(entries) / elapsed:.0f}/s), "
        f"max_concurrency={CONCURRENCY}, no latency"
    )
    print(
        f"   RSS before the run {rss_before:.0f} MB (peak so far {peak_before:.0f} MB; the input list took "
        f"{input_mb:.0f} MB); peak after {peak_after:.0f} MB; RSS after, holding the results, {rss_after:.0f} MB"
    )
    print(
        f"   peak RSS growth: {growth_peak:.1f} MB (ru_maxrss after - before), "
        f"{growth_from_current:.1f} MB (peak after - RSS before)"
    )
    report.row(
        f"Bulk: peak RSS growth of a {len(entries):,}-invoice run (client process, "
        f"`max_concurrency={CONCURRENCY}`)",
        f"**+{held:.1f} MB** ({sent:,} sent in {elapsed:.1f} s)",
        f"<= {TARGET_MB:g} MB ({verdict(held <= TARGET_MB)})",
    )
    report.write()
    print(
        f"-- against the target: {held:.1f} MB for {len(entries):,} invoices "
        f"(target <= {TARGET_MB:g} MB: {verdict(held <= TARGET_MB)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
