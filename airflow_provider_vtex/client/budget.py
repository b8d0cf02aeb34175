"""One request budget per VTEX account, held across every process that uses the account.

Why: VTEX throttles per *account*, not per process. Tasks on several workers, the triggerer's feed and
status triggers and every deferred sensor call the same account; a cap kept in each process lets them
add up to more than the account may take, and a 429 seen by one process leaves the others hammering. So
the budget lives in a store every process can reach, keyed by the account's base URL (one host per
account, so two accounts never share a budget and one account's throttling never slows another):

* with no configuration, a SQLite file (:class:`SqliteBudgetStore`, under Airflow's home): every process
  of one machine shares it, so a LocalExecutor or single-machine deployment is right by default;
* for several machines, Redis (:class:`RedisBudgetStore`), named once by ``[vtex] budget_store``.

**The guarantee** is the one the in-process :class:`~airflow_provider_vtex.client.rate_limit.RequestRateLimiter`
gives: a request occupies one unit of the cap from the moment it may start until one window *after its
answer*, so however long it travelled, no one-second window at VTEX can hold more requests than the cap.
Neither ``limits`` nor ``pyrate-limiter`` can express that: both count request *starts* in a window and
have no "release at the answer", so a request that starts late in one window can land in the next beside
that window's full quota. A unit whose process died before its answer is freed after ``lease`` seconds
(the request's timeout plus one window), so a crash never shrinks the budget for longer than that.

**Shares**, so one kind of work cannot starve another (a sale-day intake drain must not stop invoicing):
each kind (``intake``: reading orders and the feed; ``writes``: invoices, tracking, start-handling,
cancel, payments; ``events``: the triggerer's calls) has a reserved part of the cap (:data:`DEFAULT_SHARES`).
A kind may always use its reserved part; beyond it, it may take a free unit only if enough stay free for
the reserved parts of the *other kinds that asked for units in the last few seconds*. A kind nobody uses
lends its part, so one kind alone still gets the whole cap.

**Pauses**: a 429 anywhere pauses every process of the account for VTEX's advised time (``Retry-After``,
else VTEX's one-minute back-off), recorded in the same store.

Nothing here imports Airflow; :mod:`airflow_provider_vtex.hooks.vtex` chooses the store from the config.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_vtex.client.routes import RESOURCE_FEED_ADMIN, RESOURCE_FEED_VIEW, RESOURCE_VIEW_ORDER
from airflow_provider_vtex.exceptions import VtexConnectionConfigError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    from airflow_provider_vtex.client.routes import Route

Kind = Literal["intake", "writes", "events"]
KINDS: tuple[Kind, ...] = ("intake", "writes", "events")
#: The part of the cap each kind may always use (the rest goes to whoever asks first).
DEFAULT_SHARES: Mapping[str, float] = MappingProxyType({"intake": 0.4, "writes": 0.4, "events": 0.2})
#: VTEX's advised back-off after a 429 that carries no ``Retry-After``.
THROTTLE_PAUSE = 60.0
#: How long after its last request a kind still keeps its reserved part from the others.
ACTIVE_FOR = 3.0
#: Shortest wait between two looks at the store while the cap is full.
MIN_POLL = 0.005
#: The local store's file name, under Airflow's home.
LOCAL_STORE_NAME = "vtex_request_budget.sqlite3"


_INTAKE_RESOURCES = frozenset({RESOURCE_VIEW_ORDER, RESOURCE_FEED_VIEW, RESOURCE_FEED_ADMIN})


async def sleep_async(seconds: float) -> None:
    """A coroutine's wait for the budget (a module-level name, so tests can move a fake clock instead)."""
    await asyncio.sleep(seconds)


def route_kind(route: Route) -> Kind:
    """The share a sync request draws on: ``intake`` (every read, the feed and its commits) or ``writes``
    (invoices, tracking, start-handling, cancel, payments, modifications). The async face draws on
    ``events``."""
    return "intake" if route.method == "GET" or route.resource in _INTAKE_RESOURCES else "writes"


@dataclass(frozen=True)
class BudgetRule:
    """The numbers of one account's budget: the cap, and how it is shared.

    :param max_per_second: the cap; ``None`` means no cap (a 429 still pauses every process). A cap above 1
        counts whole requests (``2.5`` allows 2); below 1 it spaces requests ``1 / max_per_second`` apart.
    :param lease: seconds an unanswered request may keep its unit (its timeout plus a window).
    """

    max_per_second: float | None
    lease: float = 60.0
    shares: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SHARES)

    def __post_init__(self) -> None:
        cap = self.max_per_second
        if cap is not None and (isinstance(cap, bool) or not math.isfinite(cap) or cap <= 0):
            raise ValueError(f"max_per_second must be a number > 0 or None, got {cap!r}")
        if sum(self.shares.values()) > 1.0 + 1e-9 or any(share < 0 for share in self.shares.values()):
            raise ValueError(f"shares must be >= 0 and add up to at most 1, got {dict(self.shares)!r}")

    @property
    def capacity(self) -> int:
        return max(1, math.floor(self.max_per_second)) if self.max_per_second else 0

    @property
    def window(self) -> float:
        """How long a unit stays taken after its answer: one second, or longer below one per second."""
        return max(1.0, self.capacity / self.max_per_second) if self.max_per_second else 1.0

    @property
    def interval(self) -> float:
        """Starts are paced this far apart, so the cap is never spent in one burst."""
        return self.window / self.capacity if self.capacity else 0.0

    def reserved(self, kind: str) -> int:
        return math.floor(self.capacity * self.shares.get(kind, 0.0))

    def may_take(self, kind: str, used: Mapping[str, int], active: set[str]) -> bool:
        """Whether ``kind`` may take a free unit now (the caller checked one is free)."""
        if used.get(kind, 0) < self.reserved(kind):
            return True
        free = self.capacity - sum(used.values())
        kept_for_others = sum(
            max(0, self.reserved(other) - used.get(other, 0)) for other in active if other != kind
        )
        return free > kept_for_others


@dataclass(frozen=True)
class Grant:
    """A store's answer: a unit (``unit`` set, start at ``start``), or a wait before asking again."""

    unit: int | None
    wait: float = 0.0
    start: float = 0.0


class BudgetStore(ABC):
    """Where the budget of every account lives; every method is one atomic step, safe across processes."""

    @abstractmethod
    def take(self, account: str, kind: str, rule: BudgetRule) -> Grant:
        """A unit for one request of ``kind`` (start it at ``Grant.start``), or how long to wait."""

    @abstractmethod
    def give_back(self, account: str, unit: int, kind: str, rule: BudgetRule) -> None:
        """The request's answer arrived (or it failed): the unit stays taken for one more window."""

    @abstractmethod
    def paused_for(self, account: str) -> float:
        """Seconds the account is still paused after a 429 (0 when it is not)."""

    @abstractmethod
    def pause(self, account: str, seconds: float) -> None:
        """Pause every request to the account for ``seconds`` (a later end wins)."""

    def close(self) -> None:  # noqa: B027 - a store without connections has nothing to close
        """Release the store's connections."""


# ------------------------------------------------------------------------------------------ SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, kind TEXT NOT NULL, expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS units_by_account ON units (account, expires);
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY, next_start REAL NOT NULL DEFAULT 0, paused_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS asking (
    account TEXT NOT NULL, kind TEXT NOT NULL, seen REAL NOT NULL, PRIMARY KEY (account, kind)
);
"""


class SqliteBudgetStore(BudgetStore):
    """The budget in one SQLite file: shared by every process of the machine that opens the same file.

    SQLite's own file locking makes each step atomic across processes (``BEGIN IMMEDIATE``); WAL mode lets
    the pause check read without waiting for writers. Time is the machine's wall clock, the same for every
    process on it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
            finally:
                self._conn.execute("COMMIT")

    def __repr__(self) -> str:
        return f"SqliteBudgetStore({str(self.path)!r})"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def take(self, account: str, kind: str, rule: BudgetRule) -> Grant:
        if not rule.capacity:
            paused = self.paused_for(account)
            return Grant(None, paused) if paused > 0 else Grant(0)
        with self._transaction() as db:
            now = time.time()
            row = db.execute(
                "SELECT next_start, paused_until FROM accounts WHERE account = ?", (account,)
            ).fetchone()
            next_start, paused_until = row if row else (0.0, 0.0)
            if paused_until > now:
                return Grant(None, paused_until - now)
            db.execute("DELETE FROM units WHERE account = ? AND expires <= ?", (account, now))
            db.execute("INSERT OR REPLACE INTO asking VALUES (?, ?, ?)", (account, kind, now))
            used: dict[str, int] = dict(
                db.execute("SELECT kind, COUNT(*) FROM units WHERE account = ? GROUP BY kind", (account,))
            )
            if sum(used.values()) >= rule.capacity:
                (soonest,) = db.execute(
                    "SELECT MIN(expires) FROM units WHERE account = ?", (account,)
                ).fetchone()
                return Grant(None, _poll(soonest - now, rule))
            active = {
                k
                for (k,) in db.execute(
                    "SELECT kind FROM asking WHERE account = ? AND seen > ?", (account, now - ACTIVE_FOR)
                )
            }
            if not rule.may_take(kind, used, active):
                return Grant(None, _poll(rule.interval, rule))
            start = max(now, next_start)
            unit = db.execute(
                "INSERT INTO units (account, kind, expires) VALUES (?, ?, ?)",
                (account, kind, start + rule.lease),
            ).lastrowid
            db.execute(
                "INSERT INTO accounts (account, next_start) VALUES (?, ?) "
                "ON CONFLICT (account) DO UPDATE SET next_start = excluded.next_start",
                (account, start + rule.interval),
            )
            assert unit is not None
            return Grant(unit, 0.0, start)

    def give_back(self, account: str, unit: int, kind: str, rule: BudgetRule) -> None:
        if not unit:
            return
        with self._transaction() as db:
            db.execute(
                "UPDATE units SET expires = ? WHERE id = ? AND account = ?",
                (time.time() + rule.window, unit, account),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def paused_for(self, account: str) -> float:
        with self._lock:
            row = self._conn.execute(
                "SELECT paused_until FROM accounts WHERE account = ?", (account,)
            ).fetchone()
        return max(0.0, row[0] - time.time()) if row else 0.0

    def pause(self, account: str, seconds: float) -> None:
        with self._transaction() as db:
            until = time.time() + seconds
            db.execute(
                "INSERT INTO accounts (account, paused_until) VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET paused_until = MAX(paused_until, excluded.paused_until)",
                (account, until),
            )


def _poll(wait: float, rule: BudgetRule) -> float:
    """A wait before looking again, never shorter than :data:`MIN_POLL` nor longer than one pacing step
    (a unit may come free sooner, when its request is answered), with jitter so waiting processes do not
    all look at once."""
    longest = max(rule.interval, MIN_POLL)
    return min(max(wait, MIN_POLL), longest) * random.uniform(1.0, 1.5)


# ------------------------------------------------------------------------------------------ Redis
_REDIS_TAKE = """
local units, acct, asking = KEYS[1], KEYS[2], KEYS[3]
local kind, cap, lease, interval = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local active_for = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local paused = tonumber(redis.call('HGET', acct, 'paused_until') or '0')
if paused > now then return {0, tostring(paused - now), '0'} end
redis.call('ZREMRANGEBYSCORE', units, '-inf', now)
redis.call('HSET', asking, kind, tostring(now))
local used, total = {}, 0
for _, member in ipairs(redis.call('ZRANGE', units, 0, -1)) do
  local k = string.match(member, '^[^:]+:(.*)$')
  used[k] = (used[k] or 0) + 1
  total = total + 1
end
if total >= cap then
  local soonest = redis.call('ZRANGE', units, 0, 0, 'WITHSCORES')
  return {0, tostring(tonumber(soonest[2]) - now), '0'}
end
local shares = {}
for i = 6, #ARGV, 2 do shares[ARGV[i]] = tonumber(ARGV[i + 1]) end
local mine = used[kind] or 0
if mine >= math.floor(cap * (shares[kind] or 0)) then
  local kept = 0
  local seen = redis.call('HGETALL', asking)
  for i = 1, #seen, 2 do
    local other = seen[i]
    if other ~= kind and tonumber(seen[i + 1]) > now - active_for then
      kept = kept + math.max(0, math.floor(cap * (shares[other] or 0)) - (used[other] or 0))
    end
  end
  if cap - total <= kept then return {0, tostring(interval), '0'} end
end
local next_start = tonumber(redis.call('HGET', acct, 'next_start') or '0')
local start = math.max(now, next_start)
local unit = redis.call('HINCRBY', acct, 'units', 1)
redis.call('ZADD', units, start + lease, unit .. ':' .. kind)
redis.call('HSET', acct, 'next_start', tostring(start + interval))
redis.call('PEXPIRE', units, math.ceil((lease + 60) * 1000))
redis.call('PEXPIRE', asking, math.ceil((active_for + 60) * 1000))
return {unit, '0', tostring(start - now)}
"""

_REDIS_GIVE_BACK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local member = ARGV[1] .. ':' .. ARGV[2]
if redis.call('ZSCORE', KEYS[1], member) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), member)
end
return 1
"""

_REDIS_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if until_ > paused then redis.call('HSET', KEYS[1], 'paused_until', tostring(until_)) end
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[1]) + 3600) * 1000))
return 1
"""

_REDIS_PAUSED_FOR = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
return tostring(math.max(0, paused - now))
"""


class RedisBudgetStore(BudgetStore):
    """The budget in Redis, for deployments over several machines; each step is one Lua script, so it is
    atomic across every client, and time is Redis's own clock (``TIME``), the same for every machine.

    :param url: a ``redis://`` or ``rediss://`` URL (needs the ``redis`` package: ``pip install
        'airflow-provider-vtex[redis]'``).
    """

    def __init__(self, url: str, *, prefix: str = "vtex:budget", client: Any = None) -> None:
        try:
            import redis
        except ImportError:
            raise VtexConnectionConfigError(
                f"[vtex] budget_store names a Redis store ({_safe_url(url)}), but the 'redis' package is not "
                "installed on this machine: pip install 'airflow-provider-vtex[redis]'"
            ) from None
        self.url = url
        self.prefix = prefix
        self._redis: Any = client if client is not None else redis.Redis.from_url(url)
        self._take = self._redis.register_script(_REDIS_TAKE)
        self._give_back = self._redis.register_script(_REDIS_GIVE_BACK)
        self._pause = self._redis.register_script(_REDIS_PAUSE)
        self._paused_for = self._redis.register_script(_REDIS_PAUSED_FOR)

    def __repr__(self) -> str:
        return f"RedisBudgetStore({_safe_url(self.url)!r})"

    def _keys(self, account: str) -> list[str]:
        # One hash tag per account, so a Redis Cluster keeps an account's keys on one node.
        base = f"{self.prefix}:{{{account}}}"
        return [f"{base}:units", f"{base}:account", f"{base}:asking"]

    def take(self, account: str, kind: str, rule: BudgetRule) -> Grant:
        if not rule.capacity:
            paused = self.paused_for(account)
            return Grant(None, paused) if paused > 0 else Grant(0)
        shares = [part for name, share in rule.shares.items() for part in (name, share)]
        unit, wait, start_in = self._take(
            keys=self._keys(account),
            args=[kind, rule.capacity, rule.lease, rule.interval, ACTIVE_FOR, *shares],
        )
        if int(unit):
            return Grant(int(unit), 0.0, time.time() + float(start_in))
        waited = float(wait)
        return Grant(None, waited if waited > rule.interval else _poll(waited, rule))

    def give_back(self, account: str, unit: int, kind: str, rule: BudgetRule) -> None:
        if unit:
            self._give_back(keys=self._keys(account)[:1], args=[unit, kind, rule.window])

    def paused_for(self, account: str) -> float:
        return float(self._paused_for(keys=[self._keys(account)[1]]))

    def pause(self, account: str, seconds: float) -> None:
        self._pause(keys=[self._keys(account)[1]], args=[seconds])


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# ------------------------------------------------------------------------------------------ choosing
#: Opened stores by (process id, store): a forked child opens its own (a SQLite connection or a Redis
#: socket must not be shared across a fork).
_STORES: dict[tuple[int, str], BudgetStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(uri: str | None, home: str | os.PathLike[str]) -> BudgetStore:
    """The store named by ``[vtex] budget_store``, opened once per process.

    * empty: the local file ``<home>/vtex_request_budget.sqlite3`` (every process of this machine);
    * ``sqlite:////absolute/path.sqlite3``: another local file (e.g. on a volume several pods mount; it
      must be a local file system, as SQLite's locks are not reliable over NFS);
    * ``redis://[:password@]host:port/db`` or ``rediss://...``: Redis, for several machines.
    """
    text = (uri or "").strip()
    key = (os.getpid(), text or str(Path(home) / LOCAL_STORE_NAME))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = _open(text, home)
        return store


def close_stores() -> None:
    """Close every store this process opened (the next :func:`open_store` opens them again)."""
    with _STORES_LOCK:
        stores = list(_STORES.values())
        _STORES.clear()
    for store in stores:
        store.close()


def _open(text: str, home: str | os.PathLike[str]) -> BudgetStore:
    if not text:
        return SqliteBudgetStore(Path(home) / LOCAL_STORE_NAME)
    if text.startswith("sqlite:///"):
        return SqliteBudgetStore(text[len("sqlite:///") :])
    if text.startswith(("redis://", "rediss://", "unix://")):
        return RedisBudgetStore(text)
    raise VtexConnectionConfigError(
        f"[vtex] budget_store is {_safe_url(text)!r}, which is not a store this provider knows: leave it empty "
        "(a file under AIRFLOW_HOME, shared by the processes of one machine), or give "
        "'sqlite:////absolute/path.sqlite3' or 'redis://host:6379/0' (several machines)"
    )


# ------------------------------------------------------------------------------------------ the budget
class AccountBudget:
    """One account's budget as the clients use it: hold a unit around each request, pause after a 429.

    :param store: where the budget is shared.
    :param account: the key of the account (its base URL: one per account, so accounts stay apart).
    :param rule: the cap and its shares.
    """

    def __init__(self, store: BudgetStore, account: str, rule: BudgetRule) -> None:
        self.store = store
        self.account = account
        self.rule = rule

    def __repr__(self) -> str:
        return f"AccountBudget({self.account!r}, {self.rule.max_per_second!r} per second, {self.store!r})"

    @contextmanager
    def slot(self, kind: str) -> Iterator[float]:
        """Hold one unit of the account's cap around a request; yields the seconds waited for it."""
        unit, waited = self._acquire(kind)
        try:
            yield waited
        finally:
            self.store.give_back(self.account, unit, kind, self.rule)

    def _acquire(self, kind: str) -> tuple[int, float]:
        waited = 0.0
        while True:
            grant = self.store.take(self.account, kind, self.rule)
            if grant.unit is None:
                time.sleep(grant.wait)
                waited += grant.wait
                continue
            ahead = grant.start - time.time()
            if ahead > 0:
                time.sleep(ahead)
                waited += ahead
                paused = self.store.paused_for(self.account)
                if paused > 0:  # a 429 came while this request waited for its start
                    self.store.give_back(self.account, grant.unit, kind, self.rule)
                    continue
            return grant.unit, waited

    @asynccontextmanager
    async def aslot(self, kind: str) -> AsyncIterator[float]:
        """:meth:`slot` for the triggerer: the store is called in a thread and waits are awaited, so the
        event loop never blocks on a file lock or a Redis round trip."""
        waited = 0.0
        while True:
            grant = await asyncio.to_thread(self.store.take, self.account, kind, self.rule)
            if grant.unit is None:
                await sleep_async(grant.wait)
                waited += grant.wait
                continue
            ahead = grant.start - time.time()
            if ahead > 0:
                await sleep_async(ahead)
                waited += ahead
                if await asyncio.to_thread(self.store.paused_for, self.account) > 0:
                    await asyncio.to_thread(self.store.give_back, self.account, grant.unit, kind, self.rule)
                    continue
            break
        try:
            yield waited
        finally:
            await asyncio.to_thread(self.store.give_back, self.account, grant.unit, kind, self.rule)

    def pause(self, seconds: float) -> None:
        """Pause every process's requests to this account for ``seconds`` (after a 429)."""
        self.store.pause(self.account, seconds)

    async def apause(self, seconds: float) -> None:
        await asyncio.to_thread(self.store.pause, self.account, seconds)


def throttle_pause(retry_after: float | None, longest: float) -> float:
    """How long a 429 pauses the account: VTEX's ``Retry-After``, else its advised one-minute back-off;
    never longer than ``longest`` (the hook's ``backoff_max``, its cap on any single wait)."""
    return min(THROTTLE_PAUSE if retry_after is None else max(0.0, retry_after), longest)
