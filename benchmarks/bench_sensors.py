"""What each way of waiting costs: ``VtexOrderStatusSensor`` deferrable vs reschedule vs poke, in real Airflow.

One deployment (``tests/deployment``: API server, scheduler, DAG processor, triggerer as separate
processes, LocalExecutor with 8 worker slots, SQLite) serves ``tests/deployment/dags/vtex_sensor_dags.py``.
For each way in turn: N fresh orders are placed ``payment-pending``, the way's DAG is triggered with
their ids (one mapped sensor per order, each checking every 10 s); 180 s after the trigger (once 8 slots
have had time to start all 200 sensors here, about 125 s, so that they all do wait) the sandbox starts
approving the payments, one after the other, evenly over 60 s. The same schedule for every way. Printed
per way:

* **wall**: from the trigger (the run's ``queued_at``) to the run's end (``end_date``), from the API;
* **slot-s**: worker-slot-seconds, the task-instance-seconds spent in state ``running``. Airflow 3.3's API
  keeps no per-check history (a TI's "tries" are retries; reschedules and a resumption from deferral stay
  within one try, the row keeping only the latest start and duration), so the sensors' states are sampled
  through the API about every 0.5 s and integrated over time (``tests/deployment/sensor_runs.py``): an
  unbiased estimate whose resolution is the sampling interval. Time in ``queued`` (the task process
  starting up in its slot, before it reports running) is printed apart as **queued-s**;
* **starts**: how many times a sensor started running (Airflow's audit log: one ``running`` event per
  first start, per reschedule, per resumption);
* **peak run / peak def / peak resch**: the most sensors seen at once ``running``, ``deferred``,
  ``up_for_reschedule``; **def samples**: samples in which at least one sensor was deferred;
* the ratios of wall and slot-s to the deferrable way's.

What to read from it: a deferred sensor costs two short task runs (check and defer, resume) however long
it waits; poke holds its slot for the whole wait and reschedule takes it back every 10 s, so their
slot-seconds grow with the wait. Wall time barely differs here: it ends with the last approval for all
three ways. With ``--approve-after 60`` the approvals begin before 8 slots have started the 200 sensors,
starting them is the bottleneck, every way keeps all 8 slots busy throughout and the figures come out
nearly equal (measured: slot-s within 2 %): deferral pays off when waits outlast the start-up.

It prints; it asserts nothing (``tests/deployment/test_deferrable_sensors.py`` asserts the behaviour).
The machine is shared: run it when nothing else is busy, and read the ratios rather than the absolutes.

Run::

    .venv/bin/python benchmarks/bench_sensors.py [--orders 200] [--approve-after 180] [--approve-over 60]
        [--ways deferrable,reschedule,poke]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import Report, print_header, silence_logging

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the deployment harness lives in tests/deployment

from tests.deployment.conftest import APP_TOKEN, DAGS, deployment  # noqa: E402
from tests.deployment.sensor_runs import (  # noqa: E402
    DEFERRABLE,
    POKE,
    RESCHEDULE,
    Approvals,
    StateSampler,
    peak,
    place_pending_orders,
    sensor_states,
    state_seconds,
    task_starts,
)

WAYS = {"deferrable": DEFERRABLE, "reschedule": RESCHEDULE, "poke": POKE}


@dataclass(frozen=True)
class Figures:
    way: str
    state: str
    succeeded: int
    wall: float
    slot_seconds: float
    queued_seconds: float
    starts: int
    peak_running: int
    peak_deferred: int
    peak_rescheduled: int
    deferred_samples: int
    samples: int


def _seconds_between(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def measure(deployed: object, way: str, orders: int, approve_after: float, approve_over: float) -> Figures:
    airflow, sandbox = deployed.airflow, deployed.sandbox  # type: ignore[attr-defined]
    dag_id = WAYS[way]
    order_ids = place_pending_orders(sandbox, f"BENCH{way.upper()}", orders)
    approvals = Approvals(sandbox, order_ids, approve_over)
    run_id = airflow.trigger(dag_id, {"order_ids": order_ids})
    sampler = StateSampler(airflow, dag_id, run_id, approvals).start()
    time.sleep(approve_after)
    approvals.start()
    state = airflow.wait_for_run(dag_id, run_id, timeout=3600)
    samples = sampler.stop()
    approvals.wait(60)
    run = airflow.run(dag_id, run_id)
    final = Counter(sensor_states(airflow, dag_id, run_id).values())
    return Figures(
        way=way,
        state=state,
        succeeded=int(final.get("success", 0)),
        wall=_seconds_between(run["queued_at"], run["end_date"]),
        slot_seconds=state_seconds(samples, "running"),
        queued_seconds=state_seconds(samples, "queued"),
        starts=task_starts(airflow, dag_id, run_id),
        peak_running=peak(samples, "running"),
        peak_deferred=peak(samples, "deferred"),
        peak_rescheduled=peak(samples, "up_for_reschedule"),
        deferred_samples=sum(1 for s in samples if s.counts["deferred"]),
        samples=len(samples),
    )


def print_table(figures: list[Figures], orders: int) -> None:
    base = next((f for f in figures if f.way == "deferrable"), None)
    print(
        f"   {'way':<11}{'run':>8}{'ok':>9}{'wall s':>8}{'slot-s':>9}{'queued-s':>10}{'starts':>8}"
        f"{'peak run':>10}{'peak def':>10}{'peak resch':>12}{'def samples':>13}{'wall/def':>10}{'slot/def':>10}"
    )
    for f in figures:
        wall_ratio = f"{f.wall / base.wall:.2f}" if base and base.wall else "-"
        slot_ratio = f"{f.slot_seconds / base.slot_seconds:.2f}" if base and base.slot_seconds else "-"
        print(
            f"   {f.way:<11}{f.state:>8}{f'{f.succeeded}/{orders}':>9}{f.wall:>8.0f}{f.slot_seconds:>9.0f}"
            f"{f.queued_seconds:>10.0f}{f.starts:>8}{f.peak_running:>10}{f.peak_deferred:>10}"
            f"{f.peak_rescheduled:>12}{f'{f.deferred_samples}/{f.samples}':>13}{wall_ratio:>10}{slot_ratio:>10}"
        )


def write_report(figures: list[Figures], args: argparse.Namespace) -> None:
    """The docs' table (docs/benchmarks/bench_sensors.md)."""
    report = Report(
        "bench_sensors",
        f"{args.orders} `VtexOrderStatusSensor`s, approvals from {args.approve_after:.0f} s after the trigger "
        f"over {args.approve_over:.0f} s, 8 worker slots (real Airflow 3)",
        columns=("Way", "worker-slot-seconds", "vs deferrable", "wall time", "task starts", "peak deferred"),
    )
    base = next((f for f in figures if f.way == "deferrable"), None)
    for f in figures:
        ratio = f"{f.slot_seconds / base.slot_seconds:.1f} x" if base and base.slot_seconds else "-"
        report.row(
            f.way, f"{f.slot_seconds:,.0f}", ratio, f"{f.wall:.0f} s", f"{f.starts:,}", str(f.peak_deferred)
        )
    report.write()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--orders", type=int, default=200, help="sensors (orders) per way (default 200)")
    parser.add_argument(
        "--approve-after", type=float, default=180.0, help="seconds from the trigger to the first approval"
    )
    parser.add_argument("--approve-over", type=float, default=60.0, help="seconds the approvals span")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help=f"comma-separated, in this order (default {','.join(WAYS)})"
    )
    args = parser.parse_args()
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    unknown = [w for w in ways if w not in WAYS]
    if unknown or not ways or args.orders < 1:
        parser.error(f"--ways takes some of {list(WAYS)} (not {unknown}); --orders at least 1")
    silence_logging()
    from vtex_sandbox import VtexSandbox

    print_header(
        f"VtexOrderStatusSensor in real Airflow: {args.orders} sensors per way, payments approved from "
        f"{args.approve_after:.0f} s after the trigger over {args.approve_over:.0f} s, checks every 10 s, "
        "LocalExecutor with 8 slots"
    )
    figures: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="bench-sensors-") as folder:
        started = time.monotonic()
        sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN)
        with deployment(
            Path(folder), [DAGS / "vtex_sensor_dags.py"], [WAYS[w] for w in ways], sandbox
        ) as deployed:
            print(f"   deployment up in {time.monotonic() - started:.0f} s")
            for way in ways:
                figures.append(measure(deployed, way, args.orders, args.approve_after, args.approve_over))
                print(f"   {way}: done ({figures[-1].wall:.0f} s)", flush=True)
    print_table(figures, args.orders)
    write_report(figures, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
