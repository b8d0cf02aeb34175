"""What the VTEX page shows, gathered honestly: VTEX's figures read through the hook, Airflow's from its own
records (the tasks' ``vtex_report`` XComs), nothing kept in a store of our own.

VTEX's figures cost requests of the account's budget, so they are read at most once per
``VTEX_REFRESH_SECONDS`` per connection, one refresh at a time (a page asked for meanwhile shows the
figures it has, with their age); three requests each: the feed's configuration (its queue's size and
oldest item), the first page of orders ``ready-for-handling`` and the order hook's configuration.

The Airflow side is pure arithmetic over :class:`TaskRecord` rows, so it is tested without a server.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.exceptions import VtexError, VtexNotFoundError, root_cause
from airflow_provider_vtex.models.report import REPORT_XCOM_KEY, TaskReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from airflow_provider_vtex.hooks.vtex import VtexHook

#: How long VTEX's figures are shown before they are read again.
VTEX_REFRESH_SECONDS = 60.0
#: Defaults of the page's settings (query parameters ``hours``, ``stuck_minutes``, ``tracking_hours``).
DEFAULT_WINDOW_HOURS = 6
DEFAULT_STUCK_MINUTES = 30
DEFAULT_TRACKING_HOURS = 24
#: The chart's span, in minutes.
CHART_MINUTES = 60
#: The hook's settings for the page's reads: a page must not wait minutes on an unwell VTEX.
PAGE_HOOK_PARAMS: dict[str, Any] = {"max_retries": 1, "max_total_wait": 10.0, "timeout": 10.0}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------------------------------------- VTEX
@dataclass(frozen=True)
class VtexFigures:
    """One read of VTEX for one connection. ``error`` says what failed (the figures it concerns are None)."""

    conn_id: str
    read_at: dt.datetime
    feed_queue: int | None = None
    feed_oldest_seconds: float | None = None
    feed_note: str | None = None
    hook: str = "unknown"
    #: The account's request budget as requests a minute (the connection's ``max_requests_per_second``
    #: times 60), ``None`` without one: the line the chart's requests are drawn against.
    budget_per_minute: float | None = None
    ready_count: int | None = None
    #: Orders ready for handling (the first page VTEX lists), with when each was placed.
    ready_orders: list[tuple[str, dt.datetime | None]] = field(default_factory=list)
    error: str | None = None

    @property
    def ready_oldest(self) -> dt.datetime | None:
        placed = [at for _, at in self.ready_orders if at is not None]
        return min(placed) if placed else None


def hook_status(hook: VtexHook) -> str:
    """Whether VTEX's order hook is registered for the connection: ``registered``, ``not registered``
    (:meth:`VtexHook.get_hook_config` finds none: never registered, or deleted by VTEX after 3 idle days), or
    ``unknown`` with the reason where VTEX's answer says nothing."""
    try:
        held = hook.get_hook_config()
    except VtexError as exc:
        return f"unknown ({_short(exc)})"
    return "not registered" if held is None else "registered"


def read_vtex(conn_id: str, hook_factory: Callable[[str], VtexHook] | None = None) -> VtexFigures:
    """Read VTEX's figures for ``conn_id`` through the hook (three requests), never raising for VTEX's errors."""
    if hook_factory is None:
        from airflow_provider_vtex.hooks.vtex import VtexHook

        def hook_factory(conn_id: str) -> VtexHook:
            return VtexHook(vtex_conn_id=conn_id, **PAGE_HOOK_PARAMS)

    read_at = _now()
    hook = hook_factory(conn_id)
    figures: dict[str, Any] = {}
    errors: list[str] = []
    try:
        try:
            feed = hook.get_feed_config()
            figures["feed_queue"] = feed.quantity
            figures["feed_oldest_seconds"] = feed.approximate_age_of_oldest_message_in_seconds
        except VtexNotFoundError:
            figures["feed_note"] = "no feed configured for this AppKey"
        except VtexError as exc:
            errors.append(f"feed: {_short(exc)}")
        try:
            listed = hook.list_orders(f_status="ready-for-handling", per_page=100, orderBy="creationDate,asc")
            total = listed.paging.get("total")
            figures["ready_count"] = int(total) if isinstance(total, int) else len(listed.orders)
            figures["ready_orders"] = [
                (str(order.get("orderId")), _parse_time(order.get("creationDate"))) for order in listed.orders
            ]
        except VtexError as exc:
            errors.append(f"orders: {_short(exc)}")
        figures["hook"] = hook_status(hook)
        cap = hook.config.max_requests_per_second
        figures["budget_per_minute"] = None if cap is None else cap * 60
    finally:
        hook.close()
    return VtexFigures(conn_id=conn_id, read_at=read_at, error="; ".join(errors) or None, **figures)


def _short(exc: VtexError) -> str:
    """The error's first line: typed errors never hold a credential (exceptions.py), and the first line
    says what failed."""
    return str(root_cause(exc)).splitlines()[0][:300]


class VtexFiguresCache:
    """VTEX's figures per connection, read at most once per ``refresh_seconds``, one refresh at a time: a
    request arriving during a refresh gets the figures already held (their age is shown), or waits for the
    first read when there are none yet."""

    def __init__(
        self,
        read: Callable[[str], VtexFigures] = read_vtex,
        *,
        refresh_seconds: float = VTEX_REFRESH_SECONDS,
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self._read = read
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._held: dict[str, VtexFigures] = {}
        self._refreshing = threading.Lock()
        #: How many reads of VTEX were made (tests).
        self.reads = 0

    def get(self, conn_id: str) -> VtexFigures:
        held = self._held.get(conn_id)
        if held is not None and (self._clock() - held.read_at).total_seconds() < self.refresh_seconds:
            return held
        if not self._refreshing.acquire(blocking=held is None):
            return held  # type: ignore[return-value]  # not None: a blocking acquire cannot fail
        try:
            held = self._held.get(conn_id)  # another request may have refreshed it while this one waited
            if held is None or (self._clock() - held.read_at).total_seconds() >= self.refresh_seconds:
                self.reads += 1
                held = self._held[conn_id] = self._read(conn_id)
            return held
        finally:
            self._refreshing.release()


# ---------------------------------------------------------------------------------------------- Airflow
@dataclass(frozen=True)
class TaskRecord:
    """One task try's ``vtex_report``, where Airflow holds it."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    at: dt.datetime
    report: TaskReport


def read_task_records(since: dt.datetime, dag_ids: set[str] | None) -> list[TaskRecord]:
    """The ``vtex_report`` XComs written since ``since`` (of ``dag_ids`` only, unless None), oldest first.

    Read in the API server, from Airflow's metadata database (Airflow 3.1+)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(XComModel).where(XComModel.key == REPORT_XCOM_KEY, XComModel.timestamp >= since)
    if dag_ids is not None:
        query = query.where(XComModel.dag_id.in_(dag_ids))
    records = []
    with create_session() as session:
        for row in session.scalars(query.order_by(XComModel.timestamp)):
            report = TaskReport.from_xcom(XComModel.deserialize_value(row))
            if report is not None:
                records.append(
                    TaskRecord(row.dag_id, row.run_id, row.task_id, row.map_index, row.timestamp, report)
                )
    return records


#: The most asset events the page reads to find each connection's last pushed change (newest first).
HOOK_EVENTS_READ = 2000


def read_hook_notifications(since: dt.datetime) -> dict[str, dt.datetime]:
    """When each connection's order hook last pushed a change, since ``since``: the newest asset event the
    receiver stored for it (``via: "hook"``, the connection in ``vtex_conn_id``). From Airflow's own
    records: VTEX's hook configuration does not say when it last called."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import Text, cast, select

    query = (
        select(AssetEvent.timestamp, AssetEvent.extra)
        .where(
            AssetEvent.timestamp >= since,
            # a cheap pre-filter on the JSON text; the payload itself decides
            cast(AssetEvent.extra, Text).contains('"hook"', autoescape=True),
        )
        .order_by(AssetEvent.timestamp.desc())
        .limit(HOOK_EVENTS_READ)
    )
    latest: dict[str, dt.datetime] = {}
    with create_session() as session:
        for at, extra in session.execute(query):
            payload = (extra or {}).get("payload") if isinstance(extra, dict) else None
            conn_id = payload.get("vtex_conn_id") if isinstance(payload, dict) else None
            if (
                payload
                and payload.get("via") == "hook"
                and isinstance(conn_id, str)
                and conn_id not in latest
            ):
                latest[conn_id] = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
    return latest


def vtex_connection_ids() -> list[str]:
    """The ids of the ``vtex`` connections in Airflow's database."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_vtex.get_provider_info import CONN_TYPE

    with create_session() as session:
        return sorted(session.scalars(select(Connection.conn_id).where(Connection.conn_type == CONN_TYPE)))


@dataclass
class DagActivity:
    """What VTEX answered one DAG's tasks over the window."""

    dag_id: str
    tasks: int = 0
    requests: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    refusals: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)


def dag_activity(records: Iterable[TaskRecord], conn_id: str, since: dt.datetime) -> list[DagActivity]:
    """Refusals (4xx by VTEX error code), 429s and time waited, per DAG, of the tasks that ended since ``since``."""
    by_dag: dict[str, DagActivity] = {}
    for record in records:
        report = record.report
        if report.conn_id != conn_id or record.at < since:
            continue
        activity = by_dag.setdefault(record.dag_id, DagActivity(record.dag_id))
        activity.tasks += 1
        activity.requests += report.requests
        activity.rate_limited += report.rate_limited
        activity.waited_seconds += report.waited_seconds
        activity.refusals.update(report.refusals)
        activity.outcomes[report.outcome] += 1
    return sorted(by_dag.values(), key=lambda a: a.dag_id)


@dataclass(frozen=True)
class StuckOrder:
    order_id: str
    why: str
    #: Since when it is stuck (placed, invoiced, or the unknown outcome's time).
    since: dt.datetime | None
    #: The last task that sent a request about the order, if one did in the records read.
    last_task: TaskRecord | None


def last_touch(records: list[TaskRecord]) -> dict[str, TaskRecord]:
    """Per order id, the last task whose requests concerned it."""
    touched: dict[str, TaskRecord] = {}
    for record in records:  # oldest first: later ones win
        for order_id in record.report.order_ids:
            touched[order_id] = record
        if record.report.unknown_order_id:
            touched[record.report.unknown_order_id] = record
    return touched


def stuck_orders(
    records: list[TaskRecord],
    conn_id: str,
    vtex: VtexFigures | None,
    now: dt.datetime,
    *,
    stuck_minutes: float = DEFAULT_STUCK_MINUTES,
    tracking_hours: float = DEFAULT_TRACKING_HOURS,
) -> list[StuckOrder]:
    """Orders ready for handling longer than ``stuck_minutes`` (VTEX's list), invoices whose outcome is
    unknown and not confirmed by a later task, invoices sent ``tracking_hours`` ago with no tracking sent
    since (the tasks' records)."""
    mine = [r for r in records if r.report.conn_id == conn_id]
    touched = last_touch(mine)
    stuck: list[StuckOrder] = []
    if vtex is not None:
        limit = now - dt.timedelta(minutes=stuck_minutes)
        for order_id, placed in vtex.ready_orders:
            if placed is not None and placed <= limit:
                stuck.append(
                    StuckOrder(
                        order_id,
                        f"ready for handling over {stuck_minutes:g} min",
                        placed,
                        touched.get(order_id),
                    )
                )
    unknown: dict[str, TaskRecord] = {}
    invoiced: dict[str, TaskRecord] = {}
    tracked: set[str] = set()
    for record in mine:
        report = record.report
        if report.outcome == "outcome_unknown" and report.unknown_order_id:
            unknown[report.unknown_order_id] = record
        if report.outcome == "success":
            for order_id in report.order_ids:
                unknown.pop(order_id, None)  # a later task read or wrote it without doubt
                if report.accepted.get("invoice"):
                    invoiced.setdefault(order_id, record)
                if report.accepted.get("tracking_number"):
                    tracked.add(order_id)
    for order_id, record in unknown.items():
        stuck.append(
            StuckOrder(
                order_id,
                "write outcome unknown: read the order before sending again",
                record.at,
                touched.get(order_id),
            )
        )
    tracking_limit = now - dt.timedelta(hours=tracking_hours)
    for order_id, record in invoiced.items():
        if order_id not in tracked and record.at <= tracking_limit:
            stuck.append(
                StuckOrder(
                    order_id,
                    f"no tracking {tracking_hours:g} h after the invoice",
                    record.at,
                    touched.get(order_id),
                )
            )
    return stuck


@dataclass(frozen=True)
class Minute:
    start: dt.datetime
    orders_in: int
    orders_out: int
    requests: int
    rate_limited: int


def per_minute(
    records: Iterable[TaskRecord], conn_id: str, now: dt.datetime, minutes: int = CHART_MINUTES
) -> list[Minute]:
    """Orders in (taken into handling) and out (invoices sent: VTEX accepted them), requests and 429s per minute over the last
    ``minutes``, each task's counts at the minute it ended (its record's time)."""
    end = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    start = end - dt.timedelta(minutes=minutes)
    slots: list[list[int]] = [[0, 0, 0, 0] for _ in range(minutes)]
    for record in records:
        if record.report.conn_id != conn_id or not start <= record.at < end:
            continue
        slot = slots[int((record.at - start).total_seconds() // 60)]
        accepted = record.report.accepted
        slot[0] += accepted.get("start_handling", 0)
        slot[1] += accepted.get("invoice", 0)
        slot[2] += record.report.requests
        slot[3] += record.report.rate_limited
    return [Minute(start + dt.timedelta(minutes=i), *slot) for i, slot in enumerate(slots)]


@dataclass(frozen=True)
class AccountView:
    """Everything the page shows for one connection."""

    conn_id: str
    vtex: VtexFigures | None
    dags: list[DagActivity]
    stuck: list[StuckOrder]
    minutes: list[Minute]
    #: When the order hook last pushed a change (the receiver's newest event), ``None``: none in the window.
    last_notification: dt.datetime | None = None
