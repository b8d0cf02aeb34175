"""The account budget: one cap per account held across processes, shares between kinds of work, pauses.

Real processes share a real SQLite store here (fork: each child costs milliseconds), so what is proved is
what a LocalExecutor deployment gets: the busiest second never above the cap, a 429 seen by one process
pausing the others, and accounts that never slow each other.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_vtex.client import budget as budget_module
from airflow_provider_vtex.client.budget import (
    AccountBudget,
    BudgetRule,
    RedisBudgetStore,
    SqliteBudgetStore,
    open_store,
    route_kind,
    throttle_pause,
)
from airflow_provider_vtex.client.routes import route_for
from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from tests.unit.fake_clock import FakeClock

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from pathlib import Path

CAP = 20
#: Worker processes are spawned, not forked: pytest-xdist's worker runs threads (its execnet gateway), and
#: a child forked from a threaded process can inherit a lock another thread held at the fork and wait on it
#: forever (Python's multiprocessing docs; CPython 3.12 warns of it). Seen here: a forked worker of the
#: lowest-versions run never delivered its spans (queue.Empty after 60 s).
WORKERS = multiprocessing.get_context("spawn")


def _requests(path: str, account: str, cap: float, count: int, spans: Queue[tuple[float, float]]) -> None:
    """A worker process: ``count`` requests of 0 to 80 ms each, every one inside a unit of the budget."""
    budget = AccountBudget(SqliteBudgetStore(path), account, BudgetRule(cap, lease=10.0))
    for _ in range(count):
        with budget.slot("intake"):
            start = time.time()
            time.sleep(random.uniform(0.0, 0.08))
            spans.put((start, time.time()))


def _run(path: Path, account: str, processes: int, count: int, cap: float = CAP) -> list[tuple[float, float]]:
    spans: Queue[tuple[float, float]] = WORKERS.Queue()
    workers = [
        WORKERS.Process(target=_requests, args=(str(path), account, cap, count, spans))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected = [spans.get(timeout=60) for _ in range(processes * count)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return collected


def busiest_second(spans: list[tuple[float, float]]) -> int:
    """The most requests VTEX could have received in one second: each arrived somewhere between its start
    and its answer, so count the spans that touch the window, for a window starting at every answer."""
    return max(sum(1 for start, end in spans if start < edge + 1.0 and end >= edge) for _, edge in spans)


def test_processes_sharing_the_local_store_never_exceed_the_cap_in_any_second(tmp_path: Path) -> None:
    spans = _run(tmp_path / "budget.sqlite3", "https://shop.example", processes=3, count=12)
    assert len(spans) == 36
    assert busiest_second(spans) <= CAP
    # And the cap is used, not merely respected: 36 requests at 20 a second (plus answers) take ~2 s.
    assert max(end for _, end in spans) - min(start for start, _ in spans) < 4.0


def test_without_the_shared_store_the_same_processes_would_exceed_it(tmp_path: Path) -> None:
    """The check above can fail: three processes each with its own store (the per-process caps of before)."""
    spans: list[tuple[float, float]] = []
    queue: Queue[tuple[float, float]] = WORKERS.Queue()
    workers = [
        WORKERS.Process(target=_requests, args=(str(tmp_path / f"{n}.sqlite3"), "acct", CAP, 12, queue))
        for n in range(3)
    ]
    for worker in workers:
        worker.start()
    spans = [queue.get(timeout=60) for _ in range(36)]
    for worker in workers:
        worker.join(timeout=60)
    assert busiest_second(spans) > CAP


def _pause_then_wait(path: str, account: str, ready: Queue[float]) -> None:
    budget = AccountBudget(SqliteBudgetStore(path), account, BudgetRule(None))
    budget.pause(1.0)  # this process saw a 429 with Retry-After: 1
    ready.put(time.time() + 1.0)


def test_a_429_in_one_process_pauses_the_others_of_that_account_only(tmp_path: Path) -> None:
    path = str(tmp_path / "budget.sqlite3")
    ready: Queue[float] = WORKERS.Queue()
    child = WORKERS.Process(target=_pause_then_wait, args=(path, "https://a.example", ready))
    child.start()
    paused_until = ready.get(timeout=60)
    child.join(timeout=60)
    store = SqliteBudgetStore(path)
    other_account = AccountBudget(store, "https://b.example", BudgetRule(CAP))
    with other_account.slot("writes") as waited:
        assert waited == 0.0  # another account is not paused
    same_account = AccountBudget(store, "https://a.example", BudgetRule(CAP))
    with same_account.slot("writes"):
        assert time.time() >= paused_until - 0.01  # the parent waited out the child's pause


def test_one_accounts_full_budget_never_slows_another(tmp_path: Path) -> None:
    store = SqliteBudgetStore(tmp_path / "budget.sqlite3")
    busy = AccountBudget(store, "https://busy.example", BudgetRule(2, lease=30.0))
    quiet = AccountBudget(store, "https://quiet.example", BudgetRule(2, lease=30.0))
    with busy.slot("intake"), busy.slot("intake"):  # busy's cap is all in flight
        assert store.take(busy.account, "intake", busy.rule).unit is None
        started = time.monotonic()
        for _ in range(2):
            with quiet.slot("intake"):
                pass
        assert time.monotonic() - started < 0.9  # two requests, paced by quiet's own cap only


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Fake time in the budget module only (the shared fixture would import Airflow: seconds per test)."""
    fake = FakeClock()
    monkeypatch.setattr(budget_module, "time", fake)
    return fake


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SqliteBudgetStore:
    return SqliteBudgetStore(tmp_path / "budget.sqlite3")


def test_an_intake_drain_leaves_writes_their_share(store: SqliteBudgetStore, clock: FakeClock) -> None:
    rule = BudgetRule(10, lease=30.0)  # intake 4, writes 4, events 2 reserved
    account = "https://shop.example"
    intake = []
    for _ in range(10):  # alone, intake may use the whole cap
        grant = store.take(account, "intake", rule)
        assert grant.unit is not None
        intake.append(grant.unit)
        clock.sleep(rule.interval)
    assert store.take(account, "writes", rule).unit is None  # full: writes now wait, and are seen waiting
    for unit in intake[:4]:
        store.give_back(account, unit, "intake", rule)
    clock.sleep(rule.window)  # four units come free
    assert store.take(account, "intake", rule).unit is None  # intake may not take what writes wait for
    for _ in range(4):
        clock.sleep(rule.interval)
        assert store.take(account, "writes", rule).unit is not None


def test_a_kind_that_stopped_asking_lends_its_share(store: SqliteBudgetStore, clock: FakeClock) -> None:
    rule = BudgetRule(10, lease=30.0)
    account = "https://shop.example"
    assert store.take(account, "writes", rule).unit is not None
    clock.sleep(budget_module.ACTIVE_FOR + 1)
    for _ in range(9):
        clock.sleep(rule.interval)
        assert store.take(account, "intake", rule).unit is not None


def test_starts_are_paced_and_units_held_one_window_after_the_answer(
    store: SqliteBudgetStore, clock: FakeClock
) -> None:
    rule = BudgetRule(2, lease=30.0)
    account = "https://shop.example"
    first = store.take(account, "intake", rule)
    second = store.take(account, "intake", rule)
    assert first.unit
    assert second.unit
    assert second.start - first.start == pytest.approx(0.5)  # one every window / cap
    clock.sleep(5.0)  # long requests: still in flight, still counted
    assert store.take(account, "intake", rule).unit is None
    store.give_back(account, first.unit, "intake", rule)
    clock.sleep(0.99)
    assert store.take(account, "intake", rule).unit is None  # answered < 1 s ago: VTEX may count it now
    clock.sleep(0.02)
    assert store.take(account, "intake", rule).unit is not None


def test_a_unit_whose_process_died_comes_back_after_its_lease(
    store: SqliteBudgetStore, clock: FakeClock
) -> None:
    rule = BudgetRule(1, lease=31.0)
    assert store.take("acct", "writes", rule).unit is not None  # never given back
    clock.sleep(30.0)
    assert store.take("acct", "writes", rule).unit is None
    clock.sleep(1.5)
    assert store.take("acct", "writes", rule).unit is not None


def test_the_triggerer_waits_without_blocking_its_event_loop(tmp_path: Path) -> None:
    budget = AccountBudget(SqliteBudgetStore(tmp_path / "budget.sqlite3"), "acct", BudgetRule(5))
    budget.pause(1.0)
    ticks: list[float] = []

    async def tick() -> None:
        for _ in range(5):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def request() -> tuple[float, float]:
        async with budget.aslot("events") as waited:
            return waited, time.monotonic()

    async def both() -> tuple[float, float]:
        answer, _ = await asyncio.gather(request(), tick())
        return answer

    waited, granted = asyncio.run(both())
    assert waited >= 0.9
    assert len(ticks) == 5
    assert ticks[-1] < granted  # the loop kept running while the request waited out the pause


def test_the_pause_after_a_429_is_vtex_s_minute_unless_retry_after_says_otherwise() -> None:
    assert throttle_pause(None, longest=120.0) == 60.0
    assert throttle_pause(7.0, longest=120.0) == 7.0
    assert throttle_pause(None, longest=30.0) == 30.0


def test_routes_draw_on_their_share() -> None:
    for architecture in ("standard", "pii"):
        assert route_kind(route_for(architecture, "get_order")) == "intake"
        assert route_kind(route_for(architecture, "list_orders")) == "intake"
        assert route_kind(route_for(architecture, "feed_commit")) == "intake"
        assert route_kind(route_for(architecture, "invoice")) == "writes"
        assert route_kind(route_for(architecture, "start_handling")) == "writes"


def test_the_store_is_chosen_by_the_config(tmp_path: Path) -> None:
    default = open_store("", tmp_path)
    assert isinstance(default, SqliteBudgetStore)
    assert default.path == tmp_path / budget_module.LOCAL_STORE_NAME
    assert open_store(f"sqlite:///{tmp_path}/other.sqlite3", tmp_path).path == tmp_path / "other.sqlite3"  # type: ignore[attr-defined]
    with pytest.raises(VtexConnectionConfigError, match=r"budget_store is 'memcached://x'.*'redis://"):
        open_store("memcached://x", tmp_path)


@pytest.mark.parametrize("cap", [0, -1, float("nan"), float("inf")])
def test_a_cap_must_be_positive(cap: float) -> None:
    with pytest.raises(ValueError, match="max_per_second"):
        BudgetRule(cap)


def test_the_redis_store_keeps_the_same_rules_for_every_machine() -> None:
    """Two clients of one Redis (two machines): one cap, one pause, accounts apart, units held."""
    fakeredis = pytest.importorskip("fakeredis")
    server = fakeredis.FakeServer()
    machine_a = RedisBudgetStore("redis://redis:6379/0", client=fakeredis.FakeRedis(server=server))
    machine_b = RedisBudgetStore("redis://redis:6379/0", client=fakeredis.FakeRedis(server=server))
    rule = BudgetRule(2, lease=30.0)
    first = machine_a.take("acct", "intake", rule)
    second = machine_b.take("acct", "writes", rule)
    assert first.unit
    assert second.unit
    assert second.start - first.start == pytest.approx(0.5, abs=0.05)  # paced across machines
    assert machine_b.take("acct", "intake", rule).unit is None  # both units in flight
    assert machine_b.take("other", "intake", rule).unit  # another account has its own
    machine_a.give_back("acct", first.unit, "intake", rule)
    assert machine_b.take("acct", "intake", rule).unit is None  # answered, still held for a window
    machine_a.pause("acct", 5.0)
    assert machine_b.paused_for("acct") == pytest.approx(5.0, abs=0.5)
    assert machine_b.take("acct", "writes", BudgetRule(None)).wait == pytest.approx(5.0, abs=0.5)
    assert machine_b.paused_for("other") == 0.0


def test_the_redis_store_keeps_the_shares() -> None:
    fakeredis = pytest.importorskip("fakeredis")
    store = RedisBudgetStore(
        "redis://redis:6379/0", client=fakeredis.FakeRedis(server=fakeredis.FakeServer())
    )
    rule = BudgetRule(5, lease=30.0)  # intake 2, writes 2, events 1 reserved
    assert store.take("acct", "writes", rule).unit  # writes are active, with one unit of their two
    for _ in range(3):  # intake: its two, then one the other shares do not keep
        assert store.take("acct", "intake", rule).unit
    assert store.take("acct", "intake", rule).unit is None  # the last free unit is kept for writes
    assert store.take("acct", "writes", rule).unit
