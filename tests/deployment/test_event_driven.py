"""Orders start DAG runs by themselves at a sale day's scale: ``example_vtex_orders_from_feed_events`` (the
intake: hand the orders to the stand-in ERP, start handling them), exactly as it ships, in a real Airflow 3
deployment (scheduler, DAG processor, triggerer, API server; LocalExecutor) on the metadata database
``VTEX_TEST_DATABASE`` names (``make test-events DATABASE=sqlite|postgresql``: both, since Airflow's
PostgreSQL code differs, ``SKIP LOCKED`` row locks and ``ON CONFLICT`` upserts of queued asset events).

**A backlog.** 5,000 orders reach ``ready-for-handling`` at once before anything reads the feed (a sale's
first minutes, or an hour of orders after the triggerer was down), and the feed hides a read item for 60 s
unless it is committed, as VTEX's does. The sandbox answers a feed read in about a millisecond: the case
that overflowed Airflow's shared stream before the trigger bounded what it holds (4 overflows, 1,841
orders started twice, in the issue's measurement). Nobody triggers a DAG. What VTEX and the ERP see is
counted by the sandbox and the examples' stand-in ERP: every order started exactly once and created in the
ERP exactly once, every feed item committed, one asset event per feed item; and the triggerer never
reports an overflow.

**At Airflow's defaults.** Airflow hands each item to a watcher through a queue of ``[triggerer]
shared_stream_subscriber_queue_size`` items and fails the watcher when it overflows; the trigger holds at
most min(200, half that queue) items unsettled. The deployment runs with Airflow's default queue, 1,024 (a
bound of 200), as users run it: the backlog is 25 times the bound and 4.9 times the queue. The fixture
asserts that the deployment runs with that queue size (read back from the deployment's API server, which
shares its components' environment: Airflow 3.3's triggerer reads exactly that option, and so does the
trigger's bound). Backlogs of 5,000 and 20,000 orders are drained side by side with the polling loop by
``benchmarks/bench_backlog.py`` (its table: ``docs/benchmarks/bench_backlog.md``), and
``tests/unit/triggers/test_feed_trigger.py`` is the control: the same kind of backlog through Airflow's
shared stream without the bound (1,000 orders, a queue of 64, 500 items allowed unsettled) overflows the
queue.

**With crashes.** A backlog of 5,000 more orders with the triggerer SIGKILLed three times while items are
handed out and not yet committed (each kill at a random moment, seeded; ``VTEX_EVENTS_SEED`` replays a
run). Those items come back after the visibility timeout and fire again: the feed is at least once.
Asserted: no order lost, none started twice, none handed to the ERP twice, the feed drained.

**One deployment, two backlogs, one after the other.** Both scenarios run in the same deployment (the one
without kills first), each on new orders: the second starts only once the first drained its feed, and each
asserts on its own figures (:class:`~tests.deployment.store.Backlog`: its orders' start-handling calls, its
orders in the ERP and in the asset's events, the feed's counters and the components' output since it was
placed, the DAG runs started since), so each assertion is as exact as in a deployment of its own.

**Steady traffic** (300 orders a minute: the latency from ready-for-handling to start-handling, for the
example and for a user's own DAG on the same asset) is measured by ``benchmarks/bench_events.py``, which
also checks each order was started once: a latency figure is a benchmark's, not a test's.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

if os.environ.get("VTEX_EVENT_TESTS") != "1":
    pytest.skip(
        "the event-driven deployment tests take minutes: run them with `make test-events`",
        allow_module_level=True,
    )

from airflow_provider_vtex.triggers.order_feed import AIRFLOW_DEFAULT_QUEUE_SIZE, DEFAULT_MAX_IN_FLIGHT
from tests.deployment.conftest import APP_TOKEN, EXAMPLE_DAGS, Deployed, deployment
from tests.deployment.processes import wait_for
from tests.deployment.store import (
    Backlog,
    StoreOutcome,
    feed_figures,
    place_backlog,
    ready_feed,
    wait_until_handled,
)
from vtex_sandbox import VtexSandbox

DAG_ID = "example_vtex_orders_from_feed_events"
ASSET = "vtex_orders"
#: ``[triggerer] shared_stream_subscriber_queue_size`` of this deployment: Airflow's default, 1,024; the
#: trigger's bound is min(200, half of it): 200 (``VtexOrderFeedTrigger``'s ``in_flight_bound``).
QUEUE_SIZE = AIRFLOW_DEFAULT_QUEUE_SIZE
IN_FLIGHT_BOUND = min(DEFAULT_MAX_IN_FLIGHT, QUEUE_SIZE // 2)
#: 5,000 orders: 25 times the bound and 4.9 times the queue, the issue's case.
BACKLOG = 25 * IN_FLIGHT_BOUND
#: VTEX's feed hides a read item this long unless it is committed (the issue's measurements used 60 s).
VISIBILITY_TIMEOUT = 60
#: Generous for a 2-core machine shared with other work, and below the example's 10-minute
#: reconciliation, so that the last orders of the backlog cannot pass by waiting for the clock: the
#: trigger's quiet events must bring them.
DRAIN_TIMEOUT = 540
KILLS = 3
#: The triggerer is killed at a random point 0.5 to 10 s after its watcher started reading the feed (again),
#: within the first 0.3 s of the next hand-out of items (the commit follows a second or so later).
KILL_AFTER_SECONDS = (0.5, 10.0)
KILL_WITHIN_IN_FLIGHT_SECONDS = 0.3
OVERFLOW = "subscriber queue exceeded maxsize"


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The example DAG, as it ships, in one deployment for both backlogs, against a sandbox holding no
    orders yet whose feed is configured as an ERP integration configures it (ready-for-handling orders);
    Airflow's per-watcher queue set to its default, :data:`QUEUE_SIZE`, and asserted to be what the
    deployment runs with."""
    sandbox = VtexSandbox(seed_default=False, app_token=APP_TOKEN)
    sandbox.configure_feed(ready_feed(VISIBILITY_TIMEOUT))
    with deployment(
        tmp_path_factory.mktemp("events"),
        [EXAMPLE_DAGS / f"{DAG_ID}.py"],
        [DAG_ID],
        sandbox,
        env={"AIRFLOW__TRIGGERER__SHARED_STREAM_SUBSCRIBER_QUEUE_SIZE": str(QUEUE_SIZE)},
    ) as deployed:
        queue_size = deployed.airflow.config_value("triggerer", "shared_stream_subscriber_queue_size")
        assert queue_size == str(QUEUE_SIZE), f"the deployment's queue size is {queue_size!r}"
        yield deployed


@dataclass(frozen=True)
class Scenario:
    """One backlog on the shared deployment, and what the deployment had done before it was placed."""

    backlog: Backlog
    runs_before: frozenset[str]
    output_before: dict[str, int]
    started: float
    placed_at: dt.datetime

    @classmethod
    def place(cls, deployed: Deployed, orders: int) -> Scenario:
        """Place ``orders`` new orders at once, once the feed holds nothing of an earlier backlog."""
        feed = feed_figures(deployed.sandbox)
        assert (feed.get("quantity"), feed.get("inFlight")) == (0, 0), (
            f"an earlier backlog on this deployment was not drained (see its failure): {feed}"
        )
        runs = frozenset(run["dag_run_id"] for run in deployed.airflow.dag_runs(DAG_ID))
        output = deployed.airflow.output_marks()
        placed_at = dt.datetime.now(dt.timezone.utc)
        return cls(place_backlog(deployed.sandbox, orders), runs, output, time.monotonic(), placed_at)


def runs_and_events(deployed: Deployed, scenario: Scenario) -> dict[str, Any]:
    """How the scenario's orders reached the DAG: the runs started since the backlog was placed, by type,
    and the asset's events since then (its orders', quiet markers, events no run consumed), and what the
    components printed since then.

    Events since the backlog was placed, not all of them: the figures are each backlog's own, and the
    listing stays short (both backlogs and their redeliveries are over 10,000 events)."""
    runs = [r for r in deployed.airflow.dag_runs(DAG_ID) if r["dag_run_id"] not in scenario.runs_before]
    events = deployed.airflow.asset_events(ASSET, since=scenario.placed_at)
    payloads = [(e.get("extra") or {}).get("payload") or {} for e in events]
    by_type: dict[str, int] = {}
    for run in runs:
        by_type[run["run_type"]] = by_type.get(run["run_type"], 0) + 1
    output = deployed.airflow.component_output(since=scenario.output_before)
    return {
        "runs": by_type,
        "unfinished runs": sum(1 for run in runs if run["state"] not in ("success", "failed")),
        "failed runs": sum(1 for run in runs if run["state"] == "failed"),
        "order events": sum(
            1
            for p in payloads
            if p.get("kind") == "order" and p.get("order_id") in scenario.backlog.order_ids
        ),
        "quiet events": sum(1 for p in payloads if p.get("kind") == "quiet"),
        "events no run consumed": sum(1 for e in events if not e.get("created_dagruns")),
        "overflows": output.count(OVERFLOW),
        "triggerer loop blocked": blocked_loop(output),
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
    # Each order reached the ERP once: a sales order each, and one hand-over each. Overlapping runs hold
    # the same orders (the reconciliation lists what an earlier run handed over and has not started), and
    # Airflow runs a task at least once: it runs again a task whose success it could not record (seen
    # here: "Failed to report terminal task state to supervisor", the execution API answering 404 "Task
    # Instance not found" on SQLite under load, then try 2 of a ``send_to_erp`` that had handed over
    # 1,099 orders; the family of apache/airflow#73249 and #64023). ``send_to_erp`` hands over only what
    # the ERP does not hold, one task at a time across runs, so neither brings a second hand-over.
    assert erp["sales_orders"] == orders
    assert erp["created_twice"] == 0
    assert erp["handed_over_again"] == 0
    assert how["runs"].get("manual", 0) == 0, "a run was triggered by hand"
    assert how["runs"].get("asset_triggered", 0) >= 1
    assert how["failed runs"] == 0


def drain_line(orders: int, seconds: float) -> str:
    return f"drained {orders} orders in {seconds:.0f} s: {orders / seconds * 60:.0f} orders a minute"


def test_a_backlog_of_5000_orders_drains_once_without_overflow(
    events: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    airflow, sandbox = events.airflow, events.sandbox
    scenario = Scenario.place(events, BACKLOG)
    outcome = wait_until_handled(
        sandbox, BACKLOG, timeout=DRAIN_TIMEOUT, alive=airflow.check_alive, backlog=scenario.backlog
    )
    seconds = time.monotonic() - scenario.started
    how, erp = runs_and_events(events, scenario), events.erp(scenario.backlog.order_ids)
    report(
        capsys,
        f"{BACKLOG} orders waiting at once, event-driven (queue {QUEUE_SIZE}, bound {IN_FLIGHT_BOUND}): "
        f"{drain_line(BACKLOG, seconds)}",
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
    triggerer_starts = airflow.components["triggerer"].starts
    scenario = Scenario.place(events, BACKLOG)
    started = scenario.started
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
            lambda: feed_figures(sandbox).get("inFlight"),
            60,
            interval=0.02,
            alive=airflow.check_alive,
        )
        time.sleep(rng.uniform(0, KILL_WITHIN_IN_FLIGHT_SECONDS))
        in_flight = feed_figures(sandbox).get("inFlight")
        airflow.kill_component("triggerer")
        kills.append(f"kill {number} at {time.monotonic() - started:.1f} s ({in_flight} items in flight)")
        airflow.restart_component("triggerer")
    outcome = wait_until_handled(
        sandbox, BACKLOG, timeout=DRAIN_TIMEOUT, alive=airflow.check_alive, backlog=scenario.backlog
    )
    seconds = time.monotonic() - started
    how, erp = runs_and_events(events, scenario), events.erp(scenario.backlog.order_ids)
    report(
        capsys,
        f"{BACKLOG} orders waiting at once, triggerer SIGKILLed {KILLS} times (seed {seed}): "
        f"{outcome.lost} lost, {len(outcome.called_more_than_once)} started twice; {drain_line(BACKLOG, seconds)}",
        "; ".join(kills),
        outcome.line(),
        f"ERP: {erp}",
        ", ".join(f"{k}: {v}" for k, v in how.items()),
    )
    assert airflow.components["triggerer"].starts == triggerer_starts + KILLS
    assert outcome.feed["redelivered"] > 0, "no kill interrupted items in flight: nothing was proven"
    assert how["overflows"] == 0, "Airflow's shared stream overflowed"
    assert_every_order_reached_vtex_and_the_erp_once(outcome, erp, how, BACKLOG)
