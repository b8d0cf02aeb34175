"""50 ``VtexOrderStatusSensor`` waiting on 50 payments in a real Airflow 3 deployment (scheduler, DAG
processor, triggerer, API server; LocalExecutor with 2 worker slots), first deferred, then in reschedule
mode (``dags/vtex_sensor_dags.py``: one mapped sensor per order, a check every 10 s).

Each test places 50 orders ``payment-pending``, triggers the DAG with their ids, and waits until the
sensors have checked their orders once (every sensor when deferred; see below for reschedule mode), all
still pending: nobody has approved anything yet. Only then does the sandbox approve the payments, one
after the other, one every 0.3 s (over 15 s). The sensors' task-instance states are sampled through the
REST API throughout (``sensor_runs.StateSampler``: every 0.5 s, or as fast as the busy API server
answers).

**Why 50 sensors on 2 slots prove what 200 on 8 did.** What is proven is that a waiting sensor holds no
worker slot: more sensors are deferred at once than there are slots, which is impossible if each held one
(the pigeonhole principle). Any count above the slots proves it; what the margin says is how far above,
and 50 sensors on 2 slots are 25 times the slots, as 200 on 8 were. The deployment is asserted to run
with 2 slots (``[core] parallelism`` read back from its API server), so the ratio cannot silently change.
Each sensor's own path (check, defer, resume on its trigger's event, push its order's status) is the same
whatever the count, and every one of them is checked; the approvals come one every 0.3 s, as before. A
fourth as many sensors means a fourth of the task starts, which are what takes the time on 2 cores: 200
sensors took 22 of the stage's 56 minutes on a busy machine (15 deferred, 7 rescheduled), 50 took 3 and a
half (``benchmarks/bench_sensors.py`` measures 200 sensors on 8 slots, and the costs of each way).

**Why the deferral assertions cannot pass by accident nor fail from noise.**

* *All 50 deferred at once, none running.* The deployment has 2 worker slots, so 50 sensors can only
  all be waiting at the same moment if they wait outside the slots. A poke-mode sensor would be
  ``running`` (2 at most, the rest queued or scheduled), a rescheduled one ``up_for_reschedule``; only a
  deferred one can be ``deferred``. Nothing can disturb it: no payment is approved before that moment, so
  no trigger fires and every sensor stays deferred until it is reached (the wait is not timed; the
  timeout only reports a stuck deployment).
* *Every sensor whose order is still pending is deferred, in every later sample.* The approvals mark an
  order approved *before* approving it and are read *after* the states, so an order not marked was
  pending during the whole read: its trigger cannot have fired, so its sensor must be ``deferred`` and
  nothing else -- exactly, whatever the machine's load. Sensors of approved orders may be anywhere
  (scheduled, queued, running their ``execute_complete``, done), which is why they are not counted.
* *100 starts, each sensor on its first try.* Airflow's audit log records each time a sensor starts
  running: each one ran twice, once to find its order pending and defer, once to resume -- never in
  between, however long it waited. A run under load once counted 406 of 400 (with 200 sensors). The cause
  found that adds starts and fails nothing: a scheduler whose loop stalls past
  ``scheduler_health_check_threshold`` marks its own job failed and resets the task instances it queued
  or runs, which start again under try 2 (apache/airflow #16023; reproduced by stopping the scheduler 15 s
  under the 10 s threshold the harness then had, see ``tests/deployment/airflow.py``, which now keeps
  Airflow's 30 s). So every sensor must end on try 1, and a sensor that did not start exactly twice is
  named with its starts' try numbers and times: a reset shows as try 2, an audit entry written twice for
  one start as two of one try.

The reschedule test shows the other way of freeing the slot, and its limit. Sensors are seen
``up_for_reschedule`` (their slot given back until the next check) -- more of them than there are slots
before any payment is approved -- and none is ever ``deferred``. But with many sensors on few slots, each
check is a task process start; the scheduler hands the slots to the lowest map indexes first, so the
first sensors keep re-checking while the rest wait in ``scheduled`` for their first check (observed with
200 sensors on 8 slots: 47 of 200 checked in 10 minutes). Waiting for all to be checked before approving
would take that long, so the approvals start once twice as many sensors as slots were rescheduled; each
of those ran at least twice.

All 50 succeed in both, each pushing ``payment-approved`` to XCom for its own order. No timing is
asserted; the figures are printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

if os.environ.get("VTEX_EVENT_TESTS") != "1":
    pytest.skip(
        "the deployment tests of 50 sensors take minutes: run them with `make test-events`",
        allow_module_level=True,
    )

from tests.deployment.conftest import APP_TOKEN, DAGS, Deployed, deployment
from tests.deployment.processes import wait_for
from tests.deployment.sensor_runs import (
    APPROVED,
    DEFERRABLE,
    RESCHEDULE,
    SENSOR_TASK_ID,
    Approvals,
    Sample,
    StateSampler,
    peak,
    place_pending_orders,
    starts_by_sensor,
    state_seconds,
    task_starts,
)
from vtex_sandbox import VtexSandbox

#: ``AIRFLOW__CORE__PARALLELISM`` of this deployment: the LocalExecutor's worker slots.
WORKER_SLOTS = 2
#: 25 times the slots (see the module docstring).
ORDERS = 25 * WORKER_SLOTS
#: One approval every 0.3 s.
APPROVE_OVER_SECONDS = 0.3 * (ORDERS - 1)
#: Generous bounds that only turn a stuck deployment into a failure with a message; nothing is timed.
START_ALL_TIMEOUT = 1200
RUN_TIMEOUT = 1200


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The sensor DAGs in their own deployment with :data:`WORKER_SLOTS` worker slots (asserted), against
    a sandbox holding no orders but the tests'."""
    with deployment(
        tmp_path_factory.mktemp("sensors"),
        [DAGS / "vtex_sensor_dags.py"],
        [DEFERRABLE, RESCHEDULE],
        VtexSandbox(seed_default=False, app_token=APP_TOKEN),
        env={"AIRFLOW__CORE__PARALLELISM": str(WORKER_SLOTS)},
    ) as deployed:
        slots = deployed.airflow.config_value("core", "parallelism")
        assert slots == str(WORKER_SLOTS), f"the deployment's parallelism is {slots!r}"
        yield deployed


def report(capsys: pytest.CaptureFixture[str], title: str, *lines: str) -> None:
    with capsys.disabled():
        print(f"\n[{os.environ.get('VTEX_TEST_DATABASE') or 'sqlite'}] {title}")
        for line in lines:
            print(f"    {line}")


def pending_but_not(samples: list[Sample], order_ids: list[str], allowed: set[str]) -> list[str]:
    """Every (sample, sensor) where the sensor's order was still pending and its state not ``allowed``."""
    return [
        f"at {sample.at:.1f} s sensor {index} ({order_ids[index]}) was {state}"
        for sample in samples
        for index, state in sorted(sample.states.items())
        if order_ids[index] not in sample.approved and state not in allowed
    ]


def assert_every_sensor_succeeded_with_its_order(
    deployed: Deployed, dag_id: str, run_id: str, order_ids: list[str]
) -> None:
    airflow = deployed.airflow
    sensors = [ti for ti in airflow.task_instances(dag_id, run_id) if ti["task_id"] == SENSOR_TASK_ID]
    assert sorted(ti["map_index"] for ti in sensors) == list(range(len(order_ids)))
    not_done = [(ti["map_index"], ti["state"]) for ti in sensors if ti["state"] != "success"]
    assert not_done == [], f"sensors that did not succeed: {not_done[:20]}"
    # No retries, and reschedules and resumptions keep the try number: a later try is a reset.
    reset = [(ti["map_index"], ti["try_number"]) for ti in sensors if ti["try_number"] != 1]
    assert reset == [], f"sensors started again under a new try (reset as orphans?): {reset[:20]}"
    for ti in sensors:
        index = ti["map_index"]
        assert (ti.get("rendered_fields") or {}).get("order_id") == order_ids[index]
        assert airflow.xcom(dag_id, run_id, SENSOR_TASK_ID, map_index=index) == APPROVED
    assert all(deployed.sandbox.order(order_id)["status"] == APPROVED for order_id in order_ids)


def start_and_wait_for_first_checks(
    deployed: Deployed, dag_id: str, prefix: str, ready: Any
) -> tuple[list[str], str, Approvals, StateSampler, Sample]:
    """Place the orders, trigger the DAG, sample its sensors; return once ``ready(sampler, sample)`` says
    enough sensors have checked their order once (no payment approved yet), with that sample."""
    airflow, sandbox = deployed.airflow, deployed.sandbox
    order_ids = place_pending_orders(sandbox, prefix, ORDERS)
    approvals = Approvals(sandbox, order_ids, APPROVE_OVER_SECONDS)
    run_id = airflow.trigger(dag_id, {"order_ids": order_ids})
    sampler = StateSampler(airflow, dag_id, run_id, approvals).start()

    def alive() -> None:
        airflow.check_alive()
        sampler.check()

    def every_sensor_checked() -> Sample | None:
        sample = sampler.latest()
        return sample if sample is not None and ready(sampler, sample) else None

    checked_once = wait_for(
        f"the sensors of {dag_id} to check their orders once",
        every_sensor_checked,
        START_ALL_TIMEOUT,
        interval=0.5,
        alive=alive,
    )
    assert checked_once is not None  # wait_for returns only a truthy result
    return order_ids, run_id, approvals, sampler, checked_once


def test_50_deferred_sensors_wait_without_a_worker_slot_and_all_succeed(
    sensors: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    airflow = sensors.airflow
    order_ids, run_id, approvals, sampler, all_deferred = start_and_wait_for_first_checks(
        sensors,
        DEFERRABLE,
        "DEFER",
        lambda _sampler, s: len(s.states) == ORDERS and s.counts["deferred"] == ORDERS,
    )
    approvals.start()
    state = airflow.wait_for_run(DEFERRABLE, run_id, timeout=RUN_TIMEOUT)
    samples = sampler.stop()
    approvals.wait(60)
    later = [s for s in samples if s.at >= all_deferred.at]
    starts_of = starts_by_sensor(airflow, DEFERRABLE, run_id)
    starts = sum(len(each) for each in starts_of.values())
    report(
        capsys,
        f"{ORDERS} deferrable sensors on {WORKER_SLOTS} slots, payments approved over {APPROVE_OVER_SECONDS:.0f} s: "
        f"run {state}",
        f"all {ORDERS} deferred at once {all_deferred.at:.0f} s after the trigger, none running; "
        f"{len(later)} samples after that; peak running {peak(samples, 'running')}; "
        f"{state_seconds(samples, 'running'):.0f} running-seconds in all; {starts} starts",
    )
    assert state == "success"
    assert all_deferred.counts == {"deferred": ORDERS}
    violations = pending_but_not(later, order_ids, {"deferred"})
    assert violations == [], f"sensors of pending orders not deferred: {violations[:20]}"
    assert len([s for s in later if s.counts["deferred"]]) > 1, "sampling missed the approvals"
    not_twice = {index: each for index, each in sorted(starts_of.items()) if len(each) != 2}
    assert (starts, not_twice) == (2 * ORDERS, {}), (
        "each sensor should have run twice: to defer, and to resume"
    )
    assert_every_sensor_succeeded_with_its_order(sensors, DEFERRABLE, run_id, order_ids)


def test_50_rescheduled_sensors_give_back_their_slot_between_checks_and_all_succeed(
    sensors: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    airflow = sensors.airflow
    order_ids, run_id, approvals, sampler, checked_once = start_and_wait_for_first_checks(
        sensors,
        RESCHEDULE,
        "RESCH",
        lambda sampler, _s: len(sampler.seen("up_for_reschedule")) >= 2 * WORKER_SLOTS,
    )
    rescheduled_before_approvals = sampler.seen("up_for_reschedule")
    approvals.start()
    state = airflow.wait_for_run(RESCHEDULE, run_id, timeout=RUN_TIMEOUT)
    samples = sampler.stop()
    approvals.wait(60)
    later = [s for s in samples if s.at >= checked_once.at]
    starts = task_starts(airflow, RESCHEDULE, run_id)
    report(
        capsys,
        f"{ORDERS} sensors in reschedule mode on {WORKER_SLOTS} slots, payments approved over "
        f"{APPROVE_OVER_SECONDS:.0f} s: run {state}",
        f"{len(rescheduled_before_approvals)} sensors rescheduled {checked_once.at:.0f} s after the trigger, "
        f"{len(sampler.seen('up_for_reschedule'))} in all; peak "
        f"up_for_reschedule {peak(samples, 'up_for_reschedule')}, peak running {peak(samples, 'running')}; "
        f"{state_seconds(samples, 'running'):.0f} running-seconds in all; {starts} starts",
    )
    assert state == "success"
    assert sampler.seen("deferred") == set(), "a sensor in reschedule mode was deferred"
    waiting_states = {"none", "scheduled", "queued", "running", "up_for_reschedule"}
    violations = pending_but_not(later, order_ids, waiting_states)
    assert violations == [], f"sensors of pending orders in unexpected states: {violations[:20]}"
    # Every sensor ran once at least; those rescheduled before any approval ran again afterwards.
    assert starts >= ORDERS + len(rescheduled_before_approvals)
    assert_every_sensor_succeeded_with_its_order(sensors, RESCHEDULE, run_id, order_ids)
