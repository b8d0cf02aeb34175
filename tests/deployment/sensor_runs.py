"""What the sensor deployment test and benchmark share: orders that wait for their payment, a sandbox that
approves them over a span of time, and a record of the sensors' task-instance states sampled through the
REST API while that goes on (``test_deferrable_sensors.py``, ``benchmarks/bench_sensors.py``).

Why states are sampled rather than read afterwards: Airflow 3.3 keeps no per-check history that its API
shows. A task instance's "tries" are its retries; a rescheduled sensor's checks and a deferred sensor's
resumption happen within one try, and the TI row keeps only the latest start and duration. What a worker
slot was held for is therefore measured the way a monitoring system sees it: the states, every second or
so, integrated over time (an unbiased estimate: a check is caught in proportion to how long it runs).
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SENSOR_TASK_ID = "wait_for_payment"
PENDING, APPROVED = "payment-pending", "payment-approved"
#: The three ways of waiting, each a DAG of ``dags/vtex_sensor_dags.py``.
DEFERRABLE, RESCHEDULE, POKE = "vtex_sensors_deferrable", "vtex_sensors_reschedule", "vtex_sensors_poke"


def place_pending_orders(sandbox: Any, prefix: str, count: int) -> list[str]:
    """``count`` new orders ``{prefix}-00001-01``..., each waiting for its payment."""
    order_ids = [f"{prefix}-{index:05d}-01" for index in range(1, count + 1)]
    for order_id in order_ids:
        sandbox.place_order(order_id, status=PENDING)
    return order_ids


class Approvals:
    """Approve the payments of ``order_ids`` in order, evenly over ``seconds``, in a background thread.

    :attr:`approved` names an order *before* its payment is approved, so an order absent from it (read at
    any moment) was certainly still pending at that moment and at every moment before.
    """

    def __init__(self, sandbox: Any, order_ids: Sequence[str], seconds: float) -> None:
        self._sandbox = sandbox
        self._order_ids = list(order_ids)
        self._seconds = seconds
        self._lock = threading.Lock()
        self._approved: set[str] = set()
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="vtex-approvals", daemon=True)

    def start(self) -> Approvals:
        self._thread.start()
        return self

    @property
    def approved(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._approved)

    def wait(self, timeout: float) -> None:
        """Wait until every payment was approved; raise if that failed or took longer than ``timeout``."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the approvals did not end within {timeout:.0f} s")
        if self._errors:
            raise RuntimeError(f"approvals failed: {self._errors[:5]}")

    def _run(self) -> None:
        started = time.monotonic()
        spacing = self._seconds / max(len(self._order_ids) - 1, 1)
        for index, order_id in enumerate(self._order_ids):
            time.sleep(max(started + index * spacing - time.monotonic(), 0.0))
            with self._lock:
                self._approved.add(order_id)
            try:
                self._sandbox.move_order(order_id, APPROVED)
            except (KeyError, ValueError) as exc:  # MoveRefused is a ValueError
                self._errors.append(f"{order_id}: {exc}")


@dataclass(frozen=True)
class Sample:
    """The sensors' states at one moment (``at``: seconds since sampling began, mid-request)."""

    at: float
    states: dict[int, str]  # map index -> state ("none" before the scheduler set one)
    approved: frozenset[str]  # read after the states: a superset of what was approved when they were

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.states.values())


class StateSampler:
    """Read the sensors' states of one run every ``interval`` seconds in a background thread (see the
    module docstring for why). An API error stops sampling and is raised again by :meth:`stop`."""

    def __init__(
        self,
        airflow: Any,  # tests.deployment.airflow.AirflowDeployment
        dag_id: str,
        run_id: str,
        approvals: Approvals | None = None,
        interval: float = 0.5,
    ) -> None:
        self.airflow = airflow
        self.dag_id = dag_id
        self.run_id = run_id
        self.approvals = approvals
        self.interval = interval
        self.samples: list[Sample] = []
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vtex-ti-sampler", daemon=True)

    def start(self) -> StateSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(60)
        self.check()
        return self.samples

    def check(self) -> None:
        """Raise the error that stopped sampling, if any (for ``wait_for``'s ``alive``)."""
        if self._error is not None:
            raise RuntimeError(f"sampling the task instances failed: {self._error!r}") from self._error

    def seen(self, state: str) -> set[int]:
        """The map indexes seen in ``state`` in at least one sample so far."""
        return {index for sample in list(self.samples) for index, s in sample.states.items() if s == state}

    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                before = time.monotonic()
                states = sensor_states(self.airflow, self.dag_id, self.run_id)
                after = time.monotonic()
                approved = self.approvals.approved if self.approvals is not None else frozenset()
                self.samples.append(Sample((before + after) / 2 - self._started, states, approved))
                self._stop.wait(max(self.interval - (time.monotonic() - before), 0.0))
        except Exception as exc:  # noqa: BLE001 - kept and raised in the test's thread by stop()
            self._error = exc


def sensor_states(airflow: Any, dag_id: str, run_id: str) -> dict[int, str]:
    """Map index -> state of the run's sensors (empty until the sensor task is expanded)."""
    return {
        int(ti["map_index"]): str(ti["state"] or "none")
        for ti in airflow.task_instances(dag_id, run_id)
        if ti["task_id"] == SENSOR_TASK_ID and int(ti["map_index"]) >= 0
    }


def state_seconds(samples: Sequence[Sample], state: str) -> float:
    """Task-instance-seconds spent in ``state``: each sample's count times the time to the next sample."""
    return sum(a.counts[state] * (b.at - a.at) for a, b in itertools.pairwise(samples))


def peak(samples: Sequence[Sample], state: str) -> int:
    return max((s.counts[state] for s in samples), default=0)


def starts_by_sensor(airflow: Any, dag_id: str, run_id: str) -> dict[int, list[tuple[int, str]]]:
    """Map index -> ``(try number, when)`` of each time that sensor took a worker slot and started running:
    Airflow's audit log records a ``running`` event each time a task instance starts (first start, each
    reschedule, each resumption)."""
    query = urllib.parse.urlencode(
        {"dag_id": dag_id, "task_id": SENSOR_TASK_ID, "event": "running", "run_id": run_id}
    )
    starts: dict[int, list[tuple[int, str]]] = {}
    for entry in airflow.paged(f"/api/v2/eventLogs?{query}", "event_logs"):
        if entry.get("run_id") == run_id:
            starts.setdefault(int(entry["map_index"]), []).append(
                (int(entry["try_number"]), str(entry["when"]))
            )
    return starts


def task_starts(airflow: Any, dag_id: str, run_id: str) -> int:
    """How many times the run's sensors started running, all together (see :func:`starts_by_sensor`)."""
    return sum(len(starts) for starts in starts_by_sensor(airflow, dag_id, run_id).values())
