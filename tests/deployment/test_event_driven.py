"""Orders start DAG runs by themselves at a sale day's scale: ``example_vtex_orders_from_feed_events`` (the
intake: hand the orders to the stand-in ERP, start handling them), exactly as it ships, in a real Airflow 3
deployment (scheduler, DAG processor, triggerer, API server; LocalExecutor) on the metadata database ``VTEX_TEST_DATABASE`` names (``make test-events
DATABASE=sqlite|postgresql``).

**A backlog.** 5,000 orders reach ``ready-for-handling`` at once before anything reads the feed (a sale's
first minutes, or an hour of orders after the triggerer was down), and the feed hides a read item for 60 s
unless it is committed, as VTEX's does. The sandbox answers a feed read in about a millisecond: the case
that overflowed Airflow's shared stream (1,024 items a watcher) before the trigger bounded what it holds.
Nobody triggers a DAG. What VTEX and the ERP see is counted by the sandbox and the examples' stand-in ERP:
every order started exactly once and created in the ERP exactly once, every feed item committed, one asset
event per feed item; and the triggerer never reports an overflow.

**With crashes.** The same backlog with the triggerer SIGKILLed three times while items are handed out and
not yet committed (each kill at a random moment, seeded; ``VTEX_EVENTS_SEED`` replays a run). Those items
come back after the visibility timeout and fire again: the feed is at least once. Asserted: no order lost,
none started twice, none created twice in the ERP, the feed drained.

**Steady traffic** (300 orders a minute: the latency from ready-for-handling to start-handling, for the
example and for a user's own DAG on the same asset) is measured by ``benchmarks/bench_events.py``, which
also checks each order was started once: a latency figure is a benchmark's, not a test's.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("VTEX_EVENT_TESTS") != "1":
    pytest.skip(
        "the event-driven deployment tests take minutes: run them with `make test-events`",
        allow_module_level=True,
    )

from tests.deployment.conftest import APP_TOKEN, EXAMPLE_DAGS, Deployed, deployment
from tests.deployment.processes import wait_for
from tests.deployment.store import StoreOutcome, place_backlog, ready_feed, wait_until_handled
from vtex_sandbox import VtexSandbox

DAG_ID = "example_vtex_orders_from_feed_events"
ASSET = "vtex_orders"
BACKLOG = 5000
#: VTEX's feed hides a read item this long unless it is committed (the issue's measurements used 60 s).
VISIBILITY_TIMEOUT = 60
#: Generous for a 2-core machine shared with other work (measured drains are in the test's report: 160 to
#: 261 s with other suites running), and below the example's 10-minute reconciliation, so that the last
#: orders of the backlog cannot pass by waiting for the clock: the trigger's quiet events must bring them.
DRAIN_TIMEOUT = 540
KILLS = 3
#: The triggerer is killed at a random point 0.5 to 10 s after its watcher started reading the feed (again),
#: within the first 0.3 s of the next hand-out of items (the commit follows a second or so later).
KILL_AFTER_SECONDS = (0.5, 10.0)
KILL_WITHIN_IN_FLIGHT_SECONDS = 0.3
OVERFLOW = "subscriber queue exceeded maxsize"


def event_deployment(tmp_path: Path, dag_file: Path, dag_id: str) -> Any:
    """``dag_file`` in its own deployment, against a sandbox holding no orders yet whose feed is
    configured as an ERP integration configures it (ready-for-handling orders)."""
    sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN)
    sandbox.configure_feed(ready_feed(VISIBILITY_TIMEOUT))
    return deployment(tmp_path, [dag_file], [dag_id], sandbox)


@pytest.fixture
def events(tmp_path: Path) -> Iterator[Deployed]:
    """The example DAG, as it ships."""
    with event_deployment(tmp_path, EXAMPLE_DAGS / f"{DAG_ID}.py", DAG_ID) as deployed:
        yield deployed


def runs_and_events(deployed: Deployed, dag_id: str = DAG_ID) -> dict[str, Any]:
    """How the orders reached the DAG: its runs by type, and the asset's events (orders, quiet markers,
    and events no run consumed)."""
    runs = deployed.airflow.dag_runs(dag_id)
    events = deployed.airflow.asset_events(ASSET)
    kinds = [((e.get("extra") or {}).get("payload") or {}).get("kind") for e in events]
    by_type: dict[str, int] = {}
    for run in runs:
        by_type[run["run_type"]] = by_type.get(run["run_type"], 0) + 1
    return {
        "runs": by_type,
        "unfinished runs": sum(1 for run in runs if run["state"] not in ("success", "failed")),
        "failed runs": sum(1 for run in runs if run["state"] == "failed"),
        "order events": kinds.count("order"),
        "quiet events": kinds.count("quiet"),
        "events no run consumed": sum(1 for e in events if not e.get("created_dagruns")),
        "overflows": deployed.airflow.component_output().count(OVERFLOW),
        "triggerer loop blocked": blocked_loop(deployed.airflow.component_output()),
    }


def blocked_loop(output: str) -> str:
    """The triggerer's own watchdog reports (its async loop held above 0.2 s): how many, and the longest.
    Reported, not asserted: on a shared 2-core machine a process can wait that long for a core."""
    seconds = [float(m) for m in re.findall(r"async thread was blocked for ([0-9.]+) seconds", output)]
    return f"{len(seconds)} times, longest {max(seconds):.2f} s" if seconds else "never"


def report(capsys: pytest.CaptureFixture[str], title: str, *lines: str) -> None:
    with capsys.disabled():
        print(f"\n[{os.environ.get('VTEX_TEST_DATABASE') or 'sqlite'}] {title}")
        for line in lines:
            print(f"    {line}")


def assert_every_order_reached_vtex_and_the_erp_once(
    outcome: StoreOutcome, erp: dict[str, Any], how: dict[str, Any], orders: int
) -> None:
    assert outcome.orders == orders
    assert outcome.lost == 0, f"orders never started: {outcome.waiting[:20]}"
    assert outcome.called_more_than_once == {}, "orders started more than once"
    assert outcome.calls == orders
    assert outcome.refused == 0
    assert outcome.feed_drained, f"feed items left: {outcome.feed}"
    # Each order reached the ERP once: a sales order each, none created twice. An order may still be
    # *handed over* again and recognised by the ERP's key (reported, not asserted): Airflow runs a task at
    # least once, and runs again a task whose success it could not record. Seen here: "Failed to report
    # terminal task state to supervisor" (the execution API answered 404 "Task Instance not found" on
    # SQLite under load), then try 2 of a ``send_to_erp`` that had handed over 1,099 orders; the family of
    # apache/airflow#73249 and #64023 (task outcome and its report delivery).
    assert erp["sales_orders"] == orders
    assert erp["created_twice"] == 0
    assert how["runs"].get("manual", 0) == 0, "a run was triggered by hand"
    assert how["runs"].get("asset_triggered", 0) >= 1
    assert how["failed runs"] == 0


def drain_line(orders: int, seconds: float) -> str:
    return f"drained {orders} orders in {seconds:.0f} s: {orders / seconds * 60:.0f} orders a minute"


def test_a_backlog_of_5000_orders_drains_once_without_overflow(
    events: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    airflow, sandbox = events.airflow, events.sandbox
    place_backlog(sandbox, BACKLOG)
    started = time.monotonic()
    outcome = wait_until_handled(sandbox, BACKLOG, timeout=DRAIN_TIMEOUT, alive=airflow.check_alive)
    seconds = time.monotonic() - started
    how, erp = runs_and_events(events), events.erp()
    report(
        capsys,
        f"{BACKLOG} orders waiting at once, event-driven: {drain_line(BACKLOG, seconds)}",
        outcome.line(),
        f"ERP: {erp}",
        ", ".join(f"{k}: {v}" for k, v in how.items()),
    )
    assert how["overflows"] == 0, "Airflow's shared stream overflowed"
    assert outcome.feed["redelivered"] == 0, "items came back: an event was not confirmed in time"
    assert how["order events"] == BACKLOG, "one feed item, one asset event"
    assert_every_order_reached_vtex_and_the_erp_once(outcome, erp, how, BACKLOG)


def test_a_backlog_of_5000_with_the_triggerer_killed_three_times_loses_and_repeats_nothing(
    events: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    airflow, sandbox = events.airflow, events.sandbox
    seed = int(os.environ.get("VTEX_EVENTS_SEED") or random.SystemRandom().randrange(1_000_000))
    rng = random.Random(seed)
    place_backlog(sandbox, BACKLOG)
    started = time.monotonic()
    kills: list[str] = []
    for number in range(1, KILLS + 1):
        polls = sandbox.count(method="GET", route="feed")
        # A watcher is running (again) once the feed is polled: only then is there something to interrupt.
        wait_for(
            "the triggerer's asset watcher to poll the feed",
            lambda polls=polls: sandbox.count(method="GET", route="feed") > polls,
            120,
            alive=airflow.check_alive,
        )
        time.sleep(rng.uniform(*KILL_AFTER_SECONDS))
        wait_for(
            "feed items in flight",
            lambda: StoreOutcome.of(sandbox).feed.get("inFlight"),
            60,
            interval=0.02,
            alive=airflow.check_alive,
        )
        time.sleep(rng.uniform(0, KILL_WITHIN_IN_FLIGHT_SECONDS))
        in_flight = StoreOutcome.of(sandbox).feed.get("inFlight")
        airflow.kill_component("triggerer")
        kills.append(f"kill {number} at {time.monotonic() - started:.1f} s ({in_flight} items in flight)")
        airflow.restart_component("triggerer")
    outcome = wait_until_handled(sandbox, BACKLOG, timeout=DRAIN_TIMEOUT, alive=airflow.check_alive)
    seconds = time.monotonic() - started
    how, erp = runs_and_events(events), events.erp()
    report(
        capsys,
        f"{BACKLOG} orders waiting at once, triggerer SIGKILLed {KILLS} times (seed {seed}): "
        f"{outcome.lost} lost, {len(outcome.called_more_than_once)} started twice; {drain_line(BACKLOG, seconds)}",
        "; ".join(kills),
        outcome.line(),
        f"ERP: {erp}",
        ", ".join(f"{k}: {v}" for k, v in how.items()),
    )
    assert airflow.components["triggerer"].starts == KILLS + 1
    assert outcome.feed["redelivered"] > 0, "no kill interrupted items in flight: nothing was proven"
    assert how["overflows"] == 0, "Airflow's shared stream overflowed"
    assert_every_order_reached_vtex_and_the_erp_once(outcome, erp, how, BACKLOG)
